// Types of serve-demo.js, for the TypeScript that imports it (test/runtimes/browser.test.ts).
export interface DemoServer {
  /** "http://127.0.0.1:PORT/" */
  url: string;
  close(): Promise<void>;
}

export function startDemoServer(options?: { port?: number; host?: string }): Promise<DemoServer>;
