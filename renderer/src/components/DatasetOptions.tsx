import type { Dataset } from '../../../electron/api/schemas';

/** The options of a dataset picker: one per dataset, by id, named as imported. */
export function DatasetOptions({ datasets }: { datasets: Pick<Dataset, 'id' | 'name'>[] }) {
  return (
    <>
      {datasets.map((d) => (
        <option key={d.id} value={d.id}>
          {d.name}
        </option>
      ))}
    </>
  );
}
