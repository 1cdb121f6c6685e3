/** Entry of the run panel bundle (dist/webview.js). */
document.body.dataset.ivgr = 'ready';
