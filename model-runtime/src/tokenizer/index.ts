// The text side of the model: BERT's uncased WordPiece tokenizer, equal to Hugging Face's BertTokenizer for
// bert-base-uncased and to the Python twin in model-runtime/python/mome/tokenizer.py (the shared vectors in
// test/fixtures/tokenizer/ check both).
export { SPECIAL_TOKENS, basicTokenize } from './basic';
export { UNICODE_VERSION } from './unicode-classes';
export {
  WordPieceTokenizer,
  readVocabLines,
  type BatchEncoding,
  type BatchPadding,
  type EncodeOptions,
  type Encoding,
  type TokenizerOptions,
} from './wordpiece';
