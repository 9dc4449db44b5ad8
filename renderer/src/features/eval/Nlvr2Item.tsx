// One NLVR2 example in full: the two images side by side with the sentence, the given label, the model's
// prediction and probability. F flips the label, A flags it ambiguous, E edits the sentence.
import type { EvalItemDetail } from '../../../../electron/api/schemas';
import { mediaUrl } from '../../api/mome';
import { Nlvr2Labels } from '../labels/LabelActions';

const word = (b: boolean | null) => (b === null ? 'unlabelled' : b ? 'True' : 'False');

export function Nlvr2Item({ d, datasetId }: { d: EvalItemDetail; datasetId: number }) {
  const n = d.nlvr2!;
  const confidence = n.prediction ? n.probability : 1 - n.probability;
  const wrong = n.label !== null && n.label !== n.prediction;
  return (
    <div className="item-detail" data-testid="item-detail" data-kind={d.kind} data-key={d.key}>
      <p className="query-text">
        <strong>{d.key}</strong> ({d.split}): “{d.text}”
      </p>
      <table className="table compact">
        <tbody>
          <tr>
            <th>Label</th>
            <td>{word(n.label)}</td>
            <th>Prediction</th>
            <td className={wrong ? 'worse' : 'better'}>
              {word(n.prediction)} ({(100 * confidence).toFixed(1)}% sure)
            </td>
            <th>p(True)</th>
            <td className="num">{n.probability.toFixed(3)}</td>
          </tr>
        </tbody>
      </table>
      <div className="pair">
        <img src={mediaUrl(n.leftPath, 512)} alt="left image" />
        <img src={mediaUrl(n.rightPath, 512)} alt="right image" />
      </div>
      <Nlvr2Labels
        item={{
          id: 0,
          datasetId,
          identifier: d.key,
          split: d.split ?? '',
          sentence: d.text ?? '',
          label: n.label,
          leftPath: n.leftPath,
          rightPath: n.rightPath,
          flags: [],
        }}
      />
    </div>
  );
}
