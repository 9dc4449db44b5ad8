// Which queries a slice list is over (caption queries for IR or image queries for TR) and at which R@k a query
// counts as a hit: the controls the failure slices and the changed slices share.
export type SliceQueries = 'caption' | 'image';

export function SliceQueryPicker({
  label,
  name,
  kind,
  setKind,
  at,
  setAt,
}: {
  label: string;
  name: string;
  kind: SliceQueries;
  setKind: (k: SliceQueries) => void;
  at: 1 | 5 | 10;
  setAt: (k: 1 | 5 | 10) => void;
}) {
  return (
    <>
      <select aria-label={label} value={kind} onChange={(e) => setKind(e.target.value as SliceQueries)}>
        <option value="caption">Caption queries (IR)</option>
        <option value="image">Image queries (TR)</option>
      </select>
      {([1, 5, 10] as const).map((k) => (
        <label key={k}>
          <input type="radio" name={name} checked={at === k} onChange={() => setAt(k)} /> R@{k}
        </label>
      ))}
    </>
  );
}
