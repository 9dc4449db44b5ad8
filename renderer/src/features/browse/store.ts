// Browse state: which dataset, filters, and a page cache of items fetched by offset (the grid is virtual:
// only the rows on screen are fetched and drawn).
import { create } from 'zustand';
import type { ImageDetail, ImageItem, Nlvr2Example } from '../../../../electron/api/schemas';
import { mome } from '../../api/mome';
import { toastError } from '../../stores/toasts';

export const PAGE = 200;
type Item = ImageItem | Nlvr2Example;

interface BrowseState {
  datasetId: number | null;
  kind: 'images' | 'nlvr2';
  split: string;
  search: string;
  sort: 'id' | 'file' | 'captions' | 'flags';
  total: number;
  /** A caption search matched more images than it counts (`total` is the cap). */
  capped: boolean;
  pages: Record<number, Item[]>;
  generation: number;
  cursor: number;
  open: ImageDetail | Nlvr2Example | null;
  /** Bulk selection: grid indices of the current query (cleared when the query changes). */
  selected: Record<number, true>;
  anchor: number | null;
  /** x / Ctrl+click toggle one item; Shift+click selects the range from the last toggled one. */
  toggle(index: number, range?: boolean): void;
  clearSelection(): void;
  /** Opens one item of a dataset in the panel, wherever it is in the grid (from the Labels view). */
  show(datasetId: number, item: ImageDetail | Nlvr2Example): void;
  setQuery(q: Partial<Pick<BrowseState, 'datasetId' | 'kind' | 'split' | 'search' | 'sort'>>): void;
  ensure(offset: number): Promise<void>;
  move(to: number): void;
  openAt(index: number): Promise<void>;
  close(): void;
}

const inflight = new Set<string>();

export const useBrowse = create<BrowseState>((set, get) => ({
  datasetId: null,
  kind: 'images',
  split: '',
  search: '',
  sort: 'id',
  total: 0,
  capped: false,
  pages: {},
  generation: 0,
  cursor: 0,
  open: null,
  selected: {},
  anchor: null,
  toggle: (index, range = false) => {
    const { selected, anchor } = get();
    const next = { ...selected };
    if (range && anchor !== null) {
      for (let i = Math.min(anchor, index); i <= Math.max(anchor, index); i++) next[i] = true;
    } else if (next[index]) delete next[index];
    else next[index] = true;
    set({ selected: next, anchor: index, cursor: index });
  },
  clearSelection: () => set({ selected: {}, anchor: null }),
  show: (datasetId, item) => {
    const kind = 'identifier' in item ? 'nlvr2' : 'images';
    if (get().datasetId !== datasetId || get().kind !== kind)
      get().setQuery({ datasetId, kind, split: '', search: '' });
    set({ open: item });
  },
  setQuery: (q) => {
    set({
      ...q,
      pages: {},
      total: 0,
      capped: false,
      cursor: 0,
      open: null,
      selected: {},
      anchor: null,
      generation: get().generation + 1,
    });
    void get().ensure(0);
  },
  ensure: async (offset) => {
    const s = get();
    if (s.datasetId === null) return;
    const page = Math.floor(offset / PAGE);
    const key = `${s.generation}:${page}`;
    if (s.pages[page] || inflight.has(key)) return;
    inflight.add(key);
    try {
      const args = {
        datasetId: s.datasetId,
        split: s.split || undefined,
        search: s.search || undefined,
        offset: page * PAGE,
        limit: PAGE,
      };
      const res =
        s.kind === 'nlvr2' ? await mome().browseNlvr2(args) : await mome().browseImages({ ...args, sort: s.sort });
      if (get().generation !== s.generation) return;
      set({ total: res.total, capped: 'capped' in res && !!res.capped, pages: { ...get().pages, [page]: res.items } });
    } catch (e) {
      toastError(e);
    } finally {
      inflight.delete(key);
    }
  },
  move: (to) => set({ cursor: Math.max(0, Math.min(get().total - 1, to)) }),
  openAt: async (index) => {
    const s = get();
    const item = s.pages[Math.floor(index / PAGE)]?.[index % PAGE];
    if (!item) return;
    set({ cursor: index });
    if ('identifier' in item) return set({ open: item });
    try {
      set({ open: await mome().getImageItem({ id: item.id }) });
    } catch (e) {
      toastError(e);
    }
  },
  close: () => set({ open: null }),
}));

export function itemAt(s: BrowseState, index: number): Item | undefined {
  return s.pages[Math.floor(index / PAGE)]?.[index % PAGE];
}
