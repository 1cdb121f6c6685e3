/**
 * Stand-in for VS Code's `acquireVsCodeApi` in the plain-page harness: messages go to the Node
 * side through a Playwright binding, state lives in sessionStorage so it survives a reload the way
 * VS Code keeps it for a webview.
 */
interface HarnessWindow {
  __harnessPost(message: unknown): Promise<void>;
  acquireVsCodeApi(): unknown;
}
const w = window as unknown as HarnessWindow;
const KEY = 'ivgr-harness-state';
let acquired = false;
w.acquireVsCodeApi = () => {
  if (acquired) throw new Error('acquireVsCodeApi may only be called once');
  acquired = true;
  return {
    postMessage: (m: unknown) => void w.__harnessPost(m),
    getState: () => JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as unknown,
    setState: (s: unknown) => {
      sessionStorage.setItem(KEY, JSON.stringify(s));
      return s;
    },
  };
};
