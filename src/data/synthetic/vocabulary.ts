/**
 * The closed vocabulary of the synthetic benchmark. It is deliberately small:
 * a tiny policy model with a tokenizer built from this text learns on a CPU.
 */
export const COLOURS = {
  red: '#e0241b',
  green: '#1f9e3a',
  blue: '#1f4fe0',
  yellow: '#f2c90f',
  purple: '#8e2bd6',
  orange: '#f07c12',
} as const;
export type ColourName = keyof typeof COLOURS;
export const COLOUR_NAMES = Object.keys(COLOURS) as ColourName[];

export const SHAPES = ['star', 'circle', 'square', 'triangle', 'diamond', 'cross'] as const;
export type ShapeName = (typeof SHAPES)[number];

/** Every object's shape class in the order the pretraining aids number them: the shapes, then signs. */
export const OBJECT_SHAPES = [...SHAPES, 'sign'] as const;

/** Words printed on signs; their letters all exist in the built-in stroke font. */
export const WORDS = ['CAT', 'SUN', 'MAP', 'KEY', 'BOX', 'PEN', 'CUP', 'HAT'] as const;
export type SignWord = (typeof WORDS)[number];

/** Relation of the first named object to the second. */
export const RELATIONS = ['left', 'right', 'above', 'below'] as const;
export type Relation = (typeof RELATIONS)[number];

/** Image halves for counting questions. */
export const HALVES = ['left', 'right', 'top', 'bottom'] as const;
export type Half = (typeof HALVES)[number];

/** Options of counting questions, always in this order so the text reveals nothing. */
export const COUNT_OPTIONS = ['1', '2', '3', '4'] as const;

/** Muted colours for clutter: never one of the target colours, so clutter cannot answer a question. */
export const CLUTTER_COLOURS = ['#8a8f96', '#b5aa99', '#6f7d73', '#a39e8f', '#7d7a86', '#c4bfb4', '#5e646b', '#9c9488'] as const;

export const BACKGROUNDS = [
  ['#e9e6df', '#cfd5d9'],
  ['#dfe4dc', '#c9c4b8'],
  ['#e4e1ea', '#c8ccd2'],
  ['#ece8de', '#d2cbbd'],
] as const;

export const LETTERS = ['A', 'B', 'C', 'D'] as const;
