// Module resolution hook: `vscode` (which only exists inside VS Code) resolves to the fake.
const fakeUrl = new URL('./vscode.ts', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'vscode') return { url: fakeUrl, shortCircuit: true };
  return next(specifier, context);
}
