// Seeded Gaussian clusters for the embedding-map tests: n points in d dimensions around C centres.
import { rng } from '../../../model-runtime/src/embedding-map/projection';

export function clusters(n: number, d: number, C: number, spread: number, seed = 3) {
  const r = rng(seed);
  const g = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const centers = Array.from({ length: C }, () => Array.from({ length: d }, g));
  const X = new Float32Array(n * d);
  const label = Int32Array.from({ length: n }, (_, i) => i % C);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] = centers[label[i]][j] + spread * g();
  return { X, label };
}
