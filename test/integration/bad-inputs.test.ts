// The table of bad-input classes (issue "Hardening", item 7): every kind of bad input the app handles, each with the
// test that proves it gets a clear message and changes nothing. A row names the test by a distinctive piece of its
// text: the `it(...)` / `def test_...` name, or a line inside that test. This file checks that each named test is
// still there, so deleting or renaming one fails here until the table is updated with it.
//
// Only tested classes are listed: a bad input the app handles without a test gets its row here with its test.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '..', '..');

interface BadInput {
  /** The class of bad input, in a few words. */
  class: string;
  /** The test file, relative to the repository root. */
  where: string;
  /** A distinctive piece of the test: its name, or a line in it. For Python, the `test_...` method name. */
  test: string;
}

const IMPORT = 'test/integration/import.test.ts';
const BRIDGE = 'test/integration/bridge.test.ts';
const HARD_BRIDGE = 'test/integration/hardening-bridge.test.ts';
const HARD_DATA = 'test/integration/hardening-datasets.test.ts';
const HARD_EVAL = 'test/integration/hardening-eval.test.ts';
const LABELS = 'test/integration/labels.test.ts';
const MODELS = 'test/integration/models.test.ts';
const SEARCH = 'test/integration/search.test.ts';
const PY_SETTING = 'test/integration/python-setting.test.ts';
const PY = 'model-runtime/python/tests/';
const MORE = 'test/integration/bad-inputs-more.test.ts';
const PY_BAD = PY + 'test_bad_inputs.py';

const BAD_INPUTS: BadInput[] = [
  // Dataset import: the annotation file
  { class: 'malformed dataset JSON, named with file and line', where: IMPORT, test: "'malformed JSON'," },
  { class: 'annotation record missing a required field (schema)', where: IMPORT, test: "'wrong schema'," },
  { class: 'annotation file without an "images" array', where: IMPORT, test: "'no images array'," },
  { class: 'empty (0-byte) annotation file', where: IMPORT, test: "'0-byte annotation file'," },
  { class: 'truncated annotation file', where: IMPORT, test: "'truncated annotation file'," },
  { class: 'duplicate imgid', where: IMPORT, test: "'duplicate imgid'," },
  { class: 'duplicate sentid', where: IMPORT, test: "'duplicate sentid'," },
  { class: 'duplicate NLVR2 identifier', where: IMPORT, test: "'duplicate NLVR2 identifier'," },
  { class: 'non-UTF-8 bytes in an annotation file', where: IMPORT, test: "'non-UTF-8 bytes'," },
  { class: 'caption over the length limit (10,000 characters)', where: IMPORT, test: "'10,000-character caption'," },
  { class: 'image path in the annotation escaping the dataset root', where: IMPORT, test: "'path escaping the root'," },
  { class: 'folder that is not a dataset (unknown kind)', where: IMPORT, test: "'a folder that is not a dataset'," },
  { class: 'images without a single caption', where: IMPORT, test: "'images without a single caption'," },
  { class: 'NLVR2 json-lines: bad label value, with its line number', where: IMPORT, test: "'NLVR2 bad label'," },
  {
    class: 'NLVR2 json-lines: missing field, via the CLI (file, line, field, non-zero exit)',
    where: 'test/integration/cli.test.ts',
    test: 'import fails with the file, line and field, and a non-zero exit',
  },
  {
    class: 'empty dataset folder (annotation file lists nothing)',
    where: HARD_DATA,
    test: 'a folder whose annotation file lists nothing',
  },
  {
    class: 'missing image files (flagged, import goes on)',
    where: IMPORT,
    test: 'imports a COCO-Karpathy folder with splits, captions, full-text search and missing files flagged',
  },
  { class: 'zero-byte image files (flagged, import goes on)', where: IMPORT, test: 'flags zero-byte images' },
  {
    class: 'image symlinks leading outside the dataset at import (flagged)',
    where: IMPORT,
    test: 'symlinks that leave the root, without failing',
  },
  {
    class: 'importing an already imported folder again',
    where: 'test/integration/browse.test.ts',
    test: 'importing the same folder again is refused at once, naming the dataset',
  },
  {
    class: 'two simultaneous imports (or refreshes) of one folder',
    where: HARD_DATA,
    test: 'two simultaneous imports of one folder',
  },
  {
    class: 'Python dataset readers: missing or bad annotation file, named with file:line',
    where: PY + 'test_data.py',
    test: 'test_errors_name_the_file',
  },

  // Label edits
  {
    class: 'non-UTF-8 bytes or lone surrogates in a label value',
    where: HARD_DATA,
    test: 'non-UTF-8 bytes in a label value',
  },
  {
    class: 'label value of the wrong type, or an unknown field (all or nothing)',
    where: LABELS,
    test: 'refuses bad values and unknown fields, writing nothing (all or nothing)',
  },
  { class: 'caption moved to an imgid its dataset lacks', where: LABELS, test: '/no image with imgid 12345/' },
  {
    class: 'stale edit (conflict)',
    where: LABELS,
    test: 'never overwrites silently: an edit based on a stale value is a conflict',
  },
  {
    class: "undo over someone else's later change",
    where: LABELS,
    test: "undo refuses to clobber someone else's later change",
  },
  { class: 'label target that does not exist', where: LABELS, test: '/no item for image 999/' },

  // Browser-mode server and API
  { class: 'wrong or missing token', where: BRIDGE, test: 'refuses calls without the token' },
  {
    class: 'token in a cookie or ?token= instead of the header',
    where: HARD_BRIDGE,
    test: 'a cookie or ?token= does not authorize a call',
  },
  {
    class: 'foreign Host header (DNS rebinding)',
    where: BRIDGE,
    test: 'refuses a foreign Host header (DNS rebinding)',
  },
  { class: 'malformed Host value', where: HARD_BRIDGE, test: 'a malformed Host value %j' },
  { class: 'missing Host header', where: HARD_BRIDGE, test: 'a missing Host is refused' },
  { class: 'malformed URL percent escapes', where: HARD_BRIDGE, test: 'a malformed percent escape: %s' },
  { class: 'unknown API method', where: BRIDGE, test: "['unknown method', 'dropDatabase'" },
  { class: 'schema-invalid API arguments (wrong type, negative id)', where: BRIDGE, test: "['wrong type', 'getJob'" },
  { class: 'unknown keys in API arguments', where: BRIDGE, test: "['unknown key', 'listJobs'" },
  { class: 'relative paths', where: BRIDGE, test: "['relative path', 'startFolderScan'" },
  { class: 'request body that is not JSON', where: BRIDGE, test: "['not JSON', 'listJobs'" },
  { class: 'id of a missing object', where: BRIDGE, test: "['missing job', 'getJob'" },
  {
    class: 'malformed call through window.mome in the app',
    where: 'test/e2e/app.test.ts',
    test: 'exposes window.mome and rejects a malformed call with a clear error',
  },
  {
    class: 'folder scan of a folder that does not exist',
    where: 'test/integration/jobs.test.ts',
    test: 'a failing job records the error',
  },

  // Media, images and dataset folders
  {
    class: 'path traversal / media outside the registered roots',
    where: BRIDGE,
    test: 'serves media only under registered roots',
  },
  {
    class: 'media symlinks leading outside a registered root',
    where: BRIDGE,
    test: '// a symlink inside the root pointing outside it',
  },
  { class: 'media request for a file that is not an image', where: BRIDGE, test: '// not an image' },
  {
    class: 'thumb size out of range or not an integer',
    where: HARD_BRIDGE,
    test: 'refuses thumb=%j on /media with a 400',
  },
  {
    class: 'corrupt, truncated or empty images as thumbnails',
    where: BRIDGE,
    test: 'answers corrupt, truncated, empty and 50,000 x 50,000 images with a clear error and stays up',
  },
  {
    class: 'thumbnail of an image over the pixel limit',
    where: 'test/integration/media.test.ts',
    test: 'of an image over the pixel limit are refused with a sentence, without decoding it',
  },
  {
    class: 'huge image over the pixel limit, refused from its header',
    where: HARD_EVAL,
    test: 'is 40 megapixels and refuses a 16,000 x 16,000 PNG from its header',
  },
  {
    class: 'corrupt image file given to the decoder',
    where: 'test/integration/image-parity.test.ts',
    test: 'names the file when an image is corrupt or declares too many pixels',
  },
  {
    class: 'corrupt image among others being embedded (named, the rest go on)',
    where: 'test/integration/runtime.test.ts',
    test: 'names a corrupt image and goes on with the others',
  },
  {
    class: 'symlinks and ".." leading outside a dataset folder (evaluation)',
    where: HARD_EVAL,
    test: 'resolves files inside the folder and refuses links and ".." out of it',
  },
  {
    class: 'bad images in a retrieval run (reported per image, run goes on)',
    where: HARD_EVAL,
    test: 'retrieval (with ITM re-ranking) reports the three images, scores the rest, and stays small',
  },
  {
    class: 'bad images in an NLVR2 run (reported, left out of the accuracy)',
    where: HARD_EVAL,
    test: 'NLVR2 leaves the examples of the three images out of the accuracy and reports them',
  },

  // Export
  {
    class: 'export into a non-empty folder or into the dataset itself',
    where: 'test/integration/export.test.ts',
    test: 'refuses a non-empty target folder or one inside the dataset, leaving nothing behind',
  },
  {
    class: 'export of an image folder that links outside the dataset',
    where: HARD_EVAL,
    test: 'does not link an image folder that leads out of the dataset folder, and says so',
  },
  {
    class: 'export of an annotation file that links outside the dataset',
    where: HARD_EVAL,
    test: 'refuses an annotation file that is a link out of the dataset folder',
  },

  // Models and checkpoints
  {
    class: 'hostile pickle checkpoint (models import)',
    where: MODELS,
    test: 'refuses a checkpoint whose pickle would run a command, names what it holds, and never runs it',
  },
  {
    class: 'hostile pickle: every payload, both loaders, legacy format',
    where: PY + 'test_safe_load.py',
    test: 'test_every_payload_is_refused_by_name_and_never_runs',
  },
  {
    class: 'hostile pickle through the convert CLI',
    where: PY + 'test_safe_load.py',
    test: 'test_convert_cli_refuses_and_leaves_nothing',
  },
  {
    class: 'checkpoint pickling classes other than tensors',
    where: PY + 'test_safe_load.py',
    test: 'test_other_classes_are_refused_too',
  },
  {
    class: 'TorchScript archive given as a checkpoint',
    where: PY + 'test_safe_load.py',
    test: 'test_torchscript_archives_are_refused',
  },
  { class: 'damaged pickle', where: PY + 'test_safe_load.py', test: 'test_damaged_pickle_is_unreadable_not_unsafe' },
  {
    class: 'pickle disguised as .safetensors',
    where: PY + 'test_safe_load.py',
    test: 'test_pickle_named_safetensors_is_not_unpickled',
  },
  {
    class: '.safetensors without the safetensors package',
    where: PY + 'test_safe_load.py',
    test: 'test_missing_package_says_how_to_install_it',
  },
  { class: 'truncated checkpoint (models import, with the log)', where: MODELS, test: "'a truncated checkpoint'," },
  {
    class: 'truncated, empty or nonexistent checkpoint file',
    where: PY + 'test_checkpoint.py',
    test: 'test_truncated_file_names_the_file',
  },
  { class: 'not-a-checkpoint file (models import)', where: MODELS, test: "'a file that is not a model'," },
  {
    class: 'not-a-checkpoint file (convert CLI, JSON error)',
    where: PY + 'test_convert.py',
    test: 'test_not_a_checkpoint_fails_with_a_json_error',
  },
  {
    class: 'not-a-checkpoint file without a vocabulary: the checkpoint is checked first',
    where: PY + 'test_convert.py',
    test: 'test_not_a_checkpoint_is_reported_before_a_missing_vocabulary',
  },
  {
    class: 'not-a-model file through the mome models CLI',
    where: MODELS,
    test: 'the mome CLI imports a model folder and lists models as JSON, and fails clearly',
  },
  { class: 'folder that is not a model (no mome.json)', where: MODELS, test: "'a folder that is not a model'," },
  {
    class: 'checkpoint of another model (not VLMo, or not a dict)',
    where: PY + 'test_checkpoint.py',
    test: 'test_not_a_vlmo_checkpoint',
  },
  { class: 'checkpoint with missing tensors', where: PY + 'test_checkpoint.py', test: 'test_missing_keys_are_listed' },
  {
    class: 'checkpoint with unknown tensors',
    where: PY + 'test_checkpoint.py',
    test: 'test_unknown_tensors_are_listed',
  },
  {
    class: 'checkpoint missing a transformer block',
    where: PY + 'test_checkpoint.py',
    test: 'test_missing_block_is_named',
  },
  {
    class: 'checkpoint whose head count or image size cannot be read from it',
    where: PY + 'test_checkpoint.py',
    test: 'test_heads_without_a_table_default_to_head_dim_64_or_must_be_given',
  },
  {
    class: 'inconsistent model configuration',
    where: PY + 'test_checkpoint.py',
    test: 'test_inconsistent_sizes_are_refused',
  },
  {
    class: 'missing vocabulary (models import)',
    where: MODELS,
    test: 'names the vocabulary file it could not find, leaves nothing behind, and remembers it once given',
  },
  {
    class: 'missing vocabulary (convert CLI names the file needed)',
    where: PY + 'test_convert.py',
    test: 'test_missing_vocabulary_names_the_file_needed',
  },
  { class: '--vocab naming a file that does not exist', where: PY + 'test_convert.py', test: 'test_search_order' },
  { class: 'wrong vocab size', where: PY + 'test_export.py', test: 'test_vocab_of_the_wrong_size_is_refused' },
  {
    class: 'export into an existing model folder',
    where: PY + 'test_export.py',
    test: 'test_existing_folder_is_refused',
  },
  { class: 'bad convert arguments', where: PY + 'test_convert.py', test: 'test_bad_arguments_exit_2' },
  { class: 'unknown mome (Python) command', where: PY + 'test_convert.py', test: 'test_unknown_command_and_usage' },
  { class: 'same model imported twice', where: MODELS, test: 'the same model twice is refused' },
  {
    class: 'model folder with a missing graph or a newer format',
    where: 'test/integration/runtime.test.ts',
    test: 'refuses a model folder with a missing graph or a newer format, naming it',
  },
  {
    class: 'model folder whose config and weights disagree',
    where: PY + 'test_model_dir.py',
    test: 'test_config_and_weights_disagree',
  },
  {
    class: 'truncated weights file of a model folder',
    where: PY + 'test_model_dir.py',
    test: 'test_truncated_weights_file',
  },
  {
    class: 'text longer than the model reads (Python model)',
    where: PY + 'test_model.py',
    test: 'test_text_longer_than_max_text_len_is_refused',
  },
  {
    class: 'image tensor of the wrong size (Python model)',
    where: PY + 'test_model.py',
    test: 'test_wrong_image_size_is_refused',
  },

  // Python interpreter and fine-tune
  {
    class: 'torch-less interpreter chosen',
    where: PY_SETTING,
    test: 'refuses an interpreter without torch, naming it and what it lacks, and saves nothing',
  },
  {
    class: 'interpreter with a torch older than the minimum',
    where: PY_SETTING,
    test: 'older than 1\\.13, the minimum',
  },
  { class: 'relative interpreter path', where: PY_SETTING, test: "{ path: 'python3' }" },
  {
    class: 'interpreter that cannot be probed',
    where: PY_SETTING,
    test: 'reports a probe that cannot run instead of failing',
  },
  {
    class: 'torch version strings compared as numbers, not text',
    where: 'test/unit/python-interpreters.test.ts',
    test: 'refuses older releases, comparing numbers rather than strings',
  },
  {
    class: 'fine-tune without an interpreter that imports torch',
    where: 'test/integration/finetune.test.ts',
    test: 'without an interpreter that imports torch, the sheet and the job say how to install one',
  },
  {
    class: 'resuming a fine-tune that is not stopped',
    where: 'test/integration/finetune.test.ts',
    test: '/only a stopped one/',
  },
  {
    class: 'train-tiny work folder of other settings',
    where: PY + 'test_train_tiny.py',
    test: 'test_a_work_folder_of_other_settings_is_refused',
  },
  {
    class: 'train-tiny on CUDA without a GPU, or into an unwritable folder',
    where: PY + 'test_train_tiny.py',
    test: 'test_cuda_without_a_gpu_and_an_unwritable_output_fail_before_any_data_is_written',
  },
  {
    class: 'fine-tune data without its eval or training split, or of an unknown kind',
    where: PY + 'test_finetune.py',
    test: 'test_a_missing_eval_split_an_empty_training_split_or_an_unknown_kind_fail_before_training',
  },
  {
    class: 'synthetic data into a non-empty folder, or bad synth arguments',
    where: PY + 'test_synth_karpathy.py',
    test: 'test_refuses_a_non_empty_folder_and_bad_arguments',
  },

  // Evaluation and search
  {
    class: 'comparing runs of different splits',
    where: 'test/integration/eval.test.ts',
    test: 'refuses to compare runs of different splits, saying why',
  },
  {
    class: 'paired statistics over runs of different queries',
    where: 'test/unit/eval-stats.test.ts',
    test: 'refuses runs of different queries',
  },
  {
    class: 'bad --rerank value in the eval CLI',
    where: 'test/integration/eval-cli.test.ts',
    test: 'refuses a bad --rerank with a clear message',
  },
  { class: 'empty search query', where: SEARCH, test: '/query is empty/' },
  { class: 'search in an unknown split', where: SEARCH, test: "split: 'nope'" },
  { class: 'search query over 2,000 characters', where: SEARCH, test: '/longer than 2,000 characters/' },
  {
    class: 'search query longer than the model reads (cut, and says so)',
    where: 'test/e2e/search.test.ts',
    test: 'a query longer than the model reads is cut and says so',
  },
  { class: 'ITM re-rank asked for an image query', where: SEARCH, test: '/image query has no text/' },
  { class: 'image query by an unknown image id', where: SEARCH, test: '/no image with id 999999/' },
  { class: 'query image file that cannot be read', where: SEARCH, test: 'q\\.txt cannot be read/' },
  {
    class: 'search with a model lacking its text graph',
    where: SEARCH,
    test: 'a model without a text graph, through the CLI',
  },

  // Tokenizer, caches, database, CLI
  {
    class: 'vocabulary file without [UNK], or missing',
    where: 'test/unit/tokenizer.test.ts',
    test: 'says which file is wrong and what to do',
  },
  {
    class: 'tokenizer max length below 2',
    where: 'test/unit/tokenizer.test.ts',
    test: '/maxLen must be an integer >= 2/',
  },
  {
    class: 'embedding of the wrong size for its cache',
    where: 'test/unit/embedding-cache.test.ts',
    test: 'refuses an embedding of the wrong size',
  },
  {
    class: 'torn last record in an embedding cache',
    where: 'test/unit/embedding-cache.test.ts',
    test: 'ignores a torn last record',
  },
  {
    class: 'database written by a newer version',
    where: 'test/integration/store.test.ts',
    test: 'refuses a database written by a newer version instead of corrupting it',
  },
  {
    class: 'unknown mome CLI command',
    where: 'test/integration/cli.test.ts',
    test: 'an unknown command prints the usage and exits 2',
  },

  // More classes, each tested in bad-inputs-more.test.ts (TypeScript) or test_bad_inputs.py (Python)
  // Browser-mode server
  { class: 'request body over 1 MB', where: MORE, test: 'a request body over 1 MB is refused with a 400 that says so' },
  {
    class: 'POST /api/* without Content-Type: application/json',
    where: MORE,
    test: 'a POST /api/* without Content-Type: application/json (%s) is refused',
  },
  { class: '/media without its path parameter', where: MORE, test: '/media without its path parameter is a 400' },
  {
    class: 'relative media path',
    where: MORE,
    test: 'a relative media path is refused: a media path must be absolute',
  },
  // Dataset import
  {
    class: 'dataset import of a folder that does not exist',
    where: MORE,
    test: 'the folder does not exist. Pick an existing dataset folder.',
  },
  {
    class: 'dataset import of a file instead of a folder',
    where: MORE,
    test: 'this is a file, not a folder. Pick the folder that holds the annotation file.',
  },
  {
    class: 'a chosen dataset kind whose annotation file is missing',
    where: MORE,
    test: 'a chosen kind (%s) whose annotation file is missing in %s',
  },
  { class: 'unknown --kind in the import CLI', where: MORE, test: 'an unknown --kind in the CLI: exit 2' },
  { class: 'NLVR2 json-lines: 0-byte file, named with file and line', where: MORE, test: "['a 0-byte file'," },
  {
    class: 'NLVR2 json-lines: a line that is not UTF-8, with its line',
    where: MORE,
    test: "'a line that is not UTF-8',",
  },
  { class: 'NLVR2 json-lines: malformed JSON line, with its line', where: MORE, test: "'a malformed JSON line'," },
  // Evaluation and search
  {
    class: 'NLVR2 evaluation with a model without an NLVR2 head',
    where: MORE,
    test: 'an NLVR2 evaluation with a model without an NLVR2 head',
  },
  {
    class: 'retrieval evaluation of a split without images',
    where: MORE,
    test: 'a retrieval evaluation of a split without images',
  },
  {
    class: 'ITM re-rank evaluation with a model without a fusion graph',
    where: MORE,
    test: 'ITM re-ranking with a model without a fusion graph',
  },
  { class: 'embedding map asked for an NLVR2 run', where: MORE, test: 'the embedding map asked for an NLVR2 run' },
  { class: 'search in an NLVR2 dataset', where: MORE, test: "it('searching an NLVR2 dataset'" },
  { class: 'search with text and image together', where: MORE, test: 'a search with text and image together' },
  {
    class: 'search re-ranked with a model without a fusion graph',
    where: MORE,
    test: 'a search re-ranked with a model without a fusion graph',
  },
  // Models and the Python interpreter
  {
    class: 'model import of a path that does not exist',
    where: MORE,
    test: "it('importing a path that does not exist'",
  },
  {
    class: 'interpreter path that is a folder without bin/python',
    where: MORE,
    test: 'an interpreter path that is a folder without bin/python',
  },
  // Python
  { class: 'checkpoint path that is a folder', where: PY_BAD, test: 'test_checkpoint_path_that_is_a_folder' },
  {
    class: 'checkpoint tensors that do not fit the model',
    where: PY_BAD,
    test: 'test_tensors_that_do_not_fit_the_model',
  },
  { class: 'model folder whose mome.json has no config', where: PY_BAD, test: 'test_mome_json_without_config' },
  {
    class: 'model folder missing a graph file its mome.json lists (Python)',
    where: PY_BAD,
    test: 'test_listed_graph_file_that_is_missing',
  },
  {
    class: 'export with a vocabulary file that does not exist',
    where: PY_BAD,
    test: 'test_export_with_a_vocabulary_that_does_not_exist',
  },
  { class: 'Python dataset reader: missing image file', where: PY_BAD, test: 'test_missing_image_names_the_file' },
  { class: 'Python dataset reader: not a Karpathy file', where: PY_BAD, test: 'test_not_a_karpathy_file' },
  { class: 'Python dataset reader: an entry lacking a field', where: PY_BAD, test: 'test_an_entry_lacking_a_field' },
  {
    class: 'Python dataset reader: no image in the splits asked for',
    where: PY_BAD,
    test: 'test_no_image_in_the_splits_asked_for',
  },
  { class: 'Python model folder: mome.json that is not JSON', where: PY_BAD, test: 'test_mome_json_that_is_not_json' },
  {
    class: 'NLVR2-named files that are not NLVR2, with no kind chosen',
    where: MORE,
    test: 'NLVR2 files that detection cannot take are named with why',
  },
  {
    class: 'an NLVR2 file starting with blank lines (must not be refused)',
    where: MORE,
    test: 'an NLVR2 file that starts with blank lines is detected',
  },
];

/** How many classes this table was built with; it may grow, never shrink. The issue counted 34. */
const FOUND = 151;

const texts = new Map<string, string>();
const read = (where: string) => {
  if (!texts.has(where)) texts.set(where, fs.readFileSync(path.join(repo, where), 'utf8'));
  return texts.get(where)!;
};

describe('the table of bad-input classes', () => {
  it('has a row for every class found, each class once', () => {
    console.log(`bad-input classes: ${BAD_INPUTS.length}`);
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(Math.max(34, FOUND));
    const seen = new Map<string, number>();
    for (const r of BAD_INPUTS) seen.set(r.class.toLowerCase(), (seen.get(r.class.toLowerCase()) ?? 0) + 1);
    expect([...seen].filter(([, n]) => n > 1).map(([c]) => c)).toEqual([]);
    for (const r of BAD_INPUTS) {
      expect(r.class.trim().length, JSON.stringify(r)).toBeGreaterThan(5);
      expect(r.test.trim().length, JSON.stringify(r)).toBeGreaterThan(8); // distinctive, not a word that is anywhere
    }
  });

  it.each(BAD_INPUTS.map((r) => [r.class, r] as const))('%s: the named test exists', (_class, r) => {
    expect(path.isAbsolute(r.where) || r.where.split(/[\\/]/).includes('..'), r.where).toBe(false);
    expect(r.where, 'a test file').toMatch(
      /^(test\/(unit|integration|e2e)\/.*\.test\.ts|model-runtime\/python\/tests\/test_\w+\.py)$/,
    );
    expect(fs.existsSync(path.join(repo, r.where)), `${r.where} exists`).toBe(true);
    const text = read(r.where);
    if (r.where.endsWith('.py')) {
      // a Python row names the test method itself
      expect(r.test, 'a Python row names a test_ method').toMatch(/^test_\w+$/);
      expect(text, `${r.where} defines ${r.test}`).toMatch(new RegExp(`^\\s*def ${r.test}\\(self`, 'm'));
    } else {
      expect(text.includes(r.test), `${r.where} contains ${JSON.stringify(r.test)}`).toBe(true);
    }
  });
});
