"""Synthetic scene datasets in the published COCO-Karpathy, Flickr30K-Karpathy and NLVR2 formats.

Scenes of simple shapes are drawn procedurally; captions and NLVR2 statements are computed from
the same scene records, so every sentence is true of its image (unless --noise planted it
elsewhere, which noise.json records exactly)."""
from .captions import captions_for, describes
from .karpathy import image_scene, plan, write_karpathy
from .lexicon import tokenize, vocabulary
from .nlvr2 import example_set, iter_sets, write_nlvr2
from .scene import Scene, SceneObject, sample_scene

__all__ = [
    'Scene', 'SceneObject', 'captions_for', 'describes', 'example_set', 'image_scene', 'iter_sets', 'plan',
    'sample_scene', 'tokenize', 'vocabulary', 'write_karpathy', 'write_nlvr2',
]
