// Reads of imported datasets for the API.
import type { Dataset } from '../api/schemas';
import type { Db } from '../store/db';
import type { ImportSummary } from './importer';

interface DatasetRow {
  id: number;
  kind: Dataset['kind'];
  name: string;
  root: string;
  summary: string;
  imported_at: string;
  refreshed_at: string | null;
}

export function listDatasets(db: Db): Dataset[] {
  return (db.prepare('SELECT * FROM datasets ORDER BY id').all() as DatasetRow[]).map((r) => {
    const s = JSON.parse(r.summary) as ImportSummary;
    return {
      id: r.id,
      kind: r.kind,
      name: r.name,
      root: r.root,
      importedAt: r.imported_at,
      refreshedAt: r.refreshed_at,
      splits: s.splits ?? {},
      images: s.images ?? 0,
      captions: s.captions ?? 0,
      examples: s.examples ?? 0,
      missingImages: s.missingImages ?? 0,
      flaggedImages: s.flaggedImages ?? {},
    };
  });
}
