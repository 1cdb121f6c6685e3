/** The exported tokenizer (tokenizer.json + tokenizer_config.json) through @huggingface/tokenizers. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export class TextCodec {
  private readonly tok: Tokenizer;

  constructor(dir: string) {
    const read = (name: string): object => JSON.parse(readFileSync(join(dir, name), 'utf8')) as object;
    if (!existsSync(join(dir, 'tokenizer.json'))) throw new Error(`${join(dir, 'tokenizer.json')} not found; export the checkpoint again`);
    this.tok = new Tokenizer(read('tokenizer.json'), existsSync(join(dir, 'tokenizer_config.json')) ? read('tokenizer_config.json') : {});
  }

  /** Token ids of `text` as written (special tokens in it are matched, none are added). */
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: number[]): string {
    return this.tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }
}
