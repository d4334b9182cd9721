import { randomInt } from 'node:crypto';
import { HakoError } from '../../common/errors.ts';

// Docker's pattern (adjective_surname); the words are our own choice.
const ADJECTIVES = [
  'agile', 'bold', 'brave', 'bright', 'calm', 'clever', 'cool', 'crisp', 'eager', 'fervent',
  'gentle', 'happy', 'jolly', 'keen', 'kind', 'lucid', 'merry', 'modest', 'nimble', 'noble',
  'patient', 'quiet', 'quick', 'serene', 'sharp', 'steady', 'swift', 'tender', 'vivid', 'witty',
  'amazing', 'busy', 'candid', 'daring', 'dreamy', 'festive', 'focused', 'friendly', 'gallant', 'hopeful',
  'humble', 'lively', 'loving', 'mystic', 'peaceful', 'pensive', 'plucky', 'proud', 'relaxed', 'romantic',
];
const SURNAMES = [
  'babbage', 'bohr', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler', 'faraday', 'fermi', 'gauss',
  'hopper', 'hypatia', 'kepler', 'knuth', 'lamarr', 'lovelace', 'maxwell', 'meitner', 'newton', 'noether',
  'pascal', 'ritchie', 'shannon', 'tesla', 'thompson', 'torvalds', 'turing', 'volta', 'wozniak', 'yonath',
  'agnesi', 'banach', 'cantor', 'cerf', 'diffie', 'franklin', 'galois', 'goldberg', 'hamilton', 'hellman',
  'hodgkin', 'jackson', 'johnson', 'kare', 'khorana', 'lamport', 'liskov', 'mcclintock', 'mirzakhani', 'morse',
  'nash', 'perlman', 'poincare', 'ramanujan', 'ride', 'sammet', 'snyder', 'swanson', 'tharp', 'wiles',
];

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Docker's rule for --name (and rename). */
export function validateName(name: string): string {
  if (!NAME_RE.test(name)) throw new HakoError('invalid-argument', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name.slice(1) : name;
}

/** A free generated name; after a few clashes a digit is added, as Docker does. */
export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 10; i++) {
    const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}${i > 2 ? randomInt(10) : ''}`;
    if (!taken(name)) return name;
  }
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}${randomInt(1_000_000)}`;
}
