/**
 * A TCP proxy in front of PostgreSQL, so the soak can make "PostgreSQL refuse connections for a while" without
 * touching the machine's shared server: `refuse()` drops every open connection and stops listening (new connections
 * get ECONNREFUSED), `accept()` listens again on the same port.
 */
import net from 'node:net';

export class PgProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private refusing = false;
  connections = 0;

  private constructor(
    readonly port: number,
    private readonly upstream: { host: string; port: number },
  ) {}

  static async start(upstream: { host: string; port: number }): Promise<PgProxy> {
    const probe = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host: '127.0.0.1', port: 0 }, () => resolve((probe.address() as net.AddressInfo).port));
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const proxy = new PgProxy(port, upstream);
    await proxy.listen();
    return proxy;
  }

  /** The connection string of `url`'s database, through the proxy. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get isRefusing(): boolean {
    return this.refusing;
  }

  private async listen(): Promise<void> {
    const server = net.createServer((client) => this.pipe(client));
    server.on('error', () => undefined);
    // The port is fixed once clients know it: wait out a lingering bind instead of moving.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: '127.0.0.1', port: this.port }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        this.server = server;
        return;
      } catch (err) {
        if (attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private pipe(client: net.Socket): void {
    this.connections += 1;
    const upstream = net.connect(this.upstream);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Breaks every open connection and refuses new ones until `accept()`. */
  async refuse(): Promise<void> {
    if (this.refusing) return;
    this.refusing = true;
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }

  async accept(): Promise<void> {
    if (!this.refusing) return;
    await this.listen();
    this.refusing = false;
  }

  async close(): Promise<void> {
    await this.refuse();
  }
}
