// The scoring graph: for a chunk of M text embeddings against all N image embeddings it computes the
// similarities once and derives from them, without the full matrix ever leaving ONNX Runtime:
//   text_topv/text_topi [M,K]  the K best images per caption (image retrieval lists)
//   image_topv/image_topi [K,N] the K best captions of this chunk per image (merged across chunks in JS)
//   text_rank [M]   images scoring strictly higher than the caption's own image (0 = rank 1)
//   image_count [N] captions of this chunk scoring strictly higher than the image's best own caption
import { ElemType, model, node, tensorInfo } from './onnx-proto';

export function scoreGraph(): Uint8Array {
  const { FLOAT, INT64, INT32 } = ElemType;
  const nodes = [
    node('Gemm', ['texts', 'images'], ['scores'], [{ name: 'transB', int: 1 }]),
    node('TopK', ['scores', 'k'], ['text_topv', 'text_topi'], [{ name: 'axis', int: 1 }]),
    node('TopK', ['scores', 'k_rows'], ['image_topv', 'image_topi'], [{ name: 'axis', int: 0 }]),
    node('GatherElements', ['scores', 'gt_image'], ['gt_score'], [{ name: 'axis', int: 1 }]),
    node('Greater', ['scores', 'gt_score'], ['text_above']),
    node('Cast', ['text_above'], ['text_above_i'], [{ name: 'to', int: INT32 }]),
    node('ReduceSum', ['text_above_i', 'axis1'], ['text_rank'], [{ name: 'keepdims', int: 0 }]),
    node('Greater', ['scores', 'image_best'], ['image_above']),
    node('Cast', ['image_above'], ['image_above_i'], [{ name: 'to', int: INT32 }]),
    node('ReduceSum', ['image_above_i', 'axis0'], ['image_count'], [{ name: 'keepdims', int: 0 }]),
  ];
  return model(
    'mome_retrieval_scores',
    nodes,
    [
      tensorInfo('texts', FLOAT, ['M', 'D']),
      tensorInfo('images', FLOAT, ['N', 'D']),
      tensorInfo('k', INT64, [1]),
      tensorInfo('k_rows', INT64, [1]),
      tensorInfo('gt_image', INT64, ['M', 1]),
      tensorInfo('image_best', FLOAT, [1, 'N']),
      tensorInfo('axis0', INT64, [1]),
      tensorInfo('axis1', INT64, [1]),
    ],
    [
      tensorInfo('text_topv', FLOAT, ['M', 'K']),
      tensorInfo('text_topi', INT64, ['M', 'K']),
      tensorInfo('image_topv', FLOAT, ['K', 'N']),
      tensorInfo('image_topi', INT64, ['K', 'N']),
      tensorInfo('text_rank', INT32, ['M']),
      tensorInfo('image_count', INT32, ['N']),
    ],
  );
}

/** The same Gemm alone: the baseline the scoring is measured against. */
export function matmulGraph(): Uint8Array {
  return model(
    'bare_matmul',
    [node('Gemm', ['texts', 'images'], ['scores'], [{ name: 'transB', int: 1 }])],
    [tensorInfo('texts', ElemType.FLOAT, ['M', 'D']), tensorInfo('images', ElemType.FLOAT, ['N', 'D'])],
    [tensorInfo('scores', ElemType.FLOAT, ['M', 'N'])],
  );
}
