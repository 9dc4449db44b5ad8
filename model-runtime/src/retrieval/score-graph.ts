// The graphs of retrieval scoring. Neither lets the score matrix leave ONNX Runtime.
//   scoreGraph: a chunk of M caption embeddings against all N image embeddings, the products computed once,
//     and from them the k_rows best images per caption (text_topv/text_topi [M, k_rows]) and the k_cols best
//     captions of this chunk per image (image_topv/image_topi [k_cols, N], merged across chunks in JS).
//   countGraph: for m queries against n keys, how many keys score strictly above each query's target key
//     (the exact rank of a ground truth that the top lists do not reach; the target's own score comes
//     from the same product, so rounding never counts it above itself).
import { ElemType, model, node, tensorInfo } from '../onnx/proto-writer';

export function scoreGraph(): Uint8Array {
  const { FLOAT, INT64 } = ElemType;
  return model(
    'mome_retrieval_scores',
    [
      node('Gemm', ['texts', 'images'], ['scores'], [{ name: 'transB', int: 1 }]),
      node('TopK', ['scores', 'k_rows'], ['text_topv', 'text_topi'], [{ name: 'axis', int: 1 }]),
      node('TopK', ['scores', 'k_cols'], ['image_topv', 'image_topi'], [{ name: 'axis', int: 0 }]),
    ],
    [
      tensorInfo('texts', FLOAT, ['M', 'D']),
      tensorInfo('images', FLOAT, ['N', 'D']),
      tensorInfo('k_rows', INT64, [1]),
      tensorInfo('k_cols', INT64, [1]),
    ],
    [
      tensorInfo('text_topv', FLOAT, ['M', 'KR']),
      tensorInfo('text_topi', INT64, ['M', 'KR']),
      tensorInfo('image_topv', FLOAT, ['KC', 'N']),
      tensorInfo('image_topi', INT64, ['KC', 'N']),
    ],
  );
}

export function countGraph(): Uint8Array {
  const { FLOAT, INT64, INT32 } = ElemType;
  return model(
    'mome_retrieval_counts',
    [
      node('Gemm', ['queries', 'keys'], ['scores'], [{ name: 'transB', int: 1 }]),
      node('GatherElements', ['scores', 'target'], ['target_score'], [{ name: 'axis', int: 1 }]),
      node('Greater', ['scores', 'target_score'], ['above']),
      node('Cast', ['above'], ['above_i'], [{ name: 'to', int: INT32 }]),
      node('ReduceSum', ['above_i', 'axis1'], ['count'], [{ name: 'keepdims', int: 0 }]),
    ],
    [
      tensorInfo('queries', FLOAT, ['M', 'D']),
      tensorInfo('keys', FLOAT, ['N', 'D']),
      tensorInfo('target', INT64, ['M', 1]),
      tensorInfo('axis1', INT64, [1]),
    ],
    [tensorInfo('count', INT32, ['M'])],
  );
}

/**
 * The streamed scoring's tile (score-stream.ts): a chunk of M captions against a block of N images, the products
 * computed once (the same Gemm as scoreGraph), and from them each caption's k_rows best images of the block, each
 * image's k_cols best captions of the chunk, and per caption how many of the block's images score strictly above
 * its ground truth's score (`truth`, [M, 1]).
 */
export function tileGraph(): Uint8Array {
  const { FLOAT, INT64, INT32 } = ElemType;
  return model(
    'mome_retrieval_tile',
    [
      node('Gemm', ['texts', 'images'], ['scores'], [{ name: 'transB', int: 1 }]),
      node('TopK', ['scores', 'k_rows'], ['text_topv', 'text_topi'], [{ name: 'axis', int: 1 }]),
      node('TopK', ['scores', 'k_cols'], ['image_topv', 'image_topi'], [{ name: 'axis', int: 0 }]),
      node('Greater', ['scores', 'truth'], ['above']),
      node('Cast', ['above'], ['above_i'], [{ name: 'to', int: INT32 }]),
      node('ReduceSum', ['above_i', 'axis1'], ['above_count'], [{ name: 'keepdims', int: 0 }]),
    ],
    [
      tensorInfo('texts', FLOAT, ['M', 'D']),
      tensorInfo('images', FLOAT, ['N', 'D']),
      tensorInfo('k_rows', INT64, [1]),
      tensorInfo('k_cols', INT64, [1]),
      tensorInfo('truth', FLOAT, ['M', 1]),
      tensorInfo('axis1', INT64, [1]),
    ],
    [
      tensorInfo('text_topv', FLOAT, ['M', 'KR']),
      tensorInfo('text_topi', INT64, ['M', 'KR']),
      tensorInfo('image_topv', FLOAT, ['KC', 'N']),
      tensorInfo('image_topi', INT64, ['KC', 'N']),
      tensorInfo('above_count', INT32, ['M']),
    ],
  );
}

/** For M captions against N keys: per key, how many captions score strictly above its threshold (`limit`, [1, N]). */
export function columnCountGraph(): Uint8Array {
  const { FLOAT, INT64, INT32 } = ElemType;
  return model(
    'mome_retrieval_column_counts',
    [
      node('Gemm', ['texts', 'images'], ['scores'], [{ name: 'transB', int: 1 }]),
      node('Greater', ['scores', 'limit'], ['above']),
      node('Cast', ['above'], ['above_i'], [{ name: 'to', int: INT32 }]),
      node('ReduceSum', ['above_i', 'axis0'], ['count'], [{ name: 'keepdims', int: 0 }]),
    ],
    [
      tensorInfo('texts', FLOAT, ['M', 'D']),
      tensorInfo('images', FLOAT, ['N', 'D']),
      tensorInfo('limit', FLOAT, [1, 'N']),
      tensorInfo('axis0', INT64, [1]),
    ],
    [tensorInfo('count', INT32, ['N'])],
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
