import { create } from 'zustand';

export const VIEWS = [
  { id: 'datasets', label: 'Datasets', key: '1' },
  { id: 'browse', label: 'Browse', key: '2' },
  { id: 'retrieval', label: 'Retrieval', key: '3' },
  { id: 'nlvr2', label: 'NLVR2', key: '4' },
  { id: 'labels', label: 'Labels', key: '5' },
  { id: 'finetune', label: 'Fine-tune', key: '6' },
  { id: 'models', label: 'Models', key: '7' },
  { id: 'jobs', label: 'Jobs', key: '8' },
  { id: 'review', label: 'Review', key: '9' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

interface NavState {
  view: ViewId;
  helpOpen: boolean;
  theme: 'dark' | 'light';
  go(view: ViewId): void;
  toggleHelp(open?: boolean): void;
  toggleTheme(): void;
}

const initialTheme = (): 'dark' | 'light' => {
  const saved = localStorage.getItem('mome.theme');
  if (saved === 'dark' || saved === 'light') return saved;
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
};

export const useNav = create<NavState>((set, get) => ({
  view: 'datasets',
  helpOpen: false,
  theme: initialTheme(),
  go: (view) => set({ view }),
  toggleHelp: (open) => set({ helpOpen: open ?? !get().helpOpen }),
  toggleTheme: () => {
    const theme = get().theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem('mome.theme', theme);
    set({ theme });
  },
}));
