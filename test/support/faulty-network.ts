import { connect, createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { own } from './test-resources.js';

interface Link {
  client: Socket;
  server: Socket;
  /** Bytes from the server held back while the link is frozen. */
  held: Buffer[];
  frozen: boolean;
}

/**
 * A TCP proxy between clients and the gateway that can fail the way networks
 * do: cut every connection (a dropped Wi-Fi), freeze what flows back to the
 * clients (a stalled link: the gateway's frames are held, nothing is lost),
 * or turn new connections away (the gateway unreachable for a while).
 */
export class FaultyNetwork {
  private server?: Server;
  private readonly links = new Set<Link>();
  private refusing = false;
  private heldWaiters: { bytes: number; resolve: () => void }[] = [];
  private release = (): void => undefined;

  constructor(private target: { host: string; port: number }) {}

  static towards(url: string): FaultyNetwork {
    return new FaultyNetwork(addressOf(url));
  }

  /** New connections go to another gateway (one behind the same load balancer). */
  retarget(url: string): void {
    this.target = addressOf(url);
  }

  /** Starts listening; returns the proxy's port. */
  async start(): Promise<number> {
    this.server = createServer((client) => this.link(client));
    this.release = own(() => this.stop());
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string {
    const proxied = new URL(url);
    proxied.host = `127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return proxied.toString();
  }

  /** Drops every open connection at once, as a network failure does (no close handshake). */
  cutAll(): void {
    for (const link of this.links) {
      link.client.destroy();
      link.server.destroy();
    }
  }

  /** Holds back everything the gateway sends on the open connections, until thaw(). */
  freeze(): void {
    for (const link of this.links) link.frozen = true;
  }

  thaw(): void {
    for (const link of this.links) {
      link.frozen = false;
      for (const chunk of link.held.splice(0)) link.client.write(chunk);
    }
  }

  /** Resolves once at least `bytes` are held back on the frozen connections. */
  held(bytes = 1): Promise<void> {
    if (this.heldBytes >= bytes) return Promise.resolve();
    return new Promise((resolve) => this.heldWaiters.push({ bytes, resolve }));
  }

  /** New connections are closed at once while refusing. */
  refuse(refusing: boolean): void {
    this.refusing = refusing;
  }

  async stop(): Promise<void> {
    this.release();
    this.cutAll();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private get heldBytes(): number {
    let bytes = 0;
    for (const link of this.links) for (const chunk of link.held) bytes += chunk.length;
    return bytes;
  }

  private link(client: Socket): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const server = connect(this.target);
    const link: Link = { client, server, held: [], frozen: false };
    this.links.add(link);
    client.on('data', (chunk) => server.write(chunk));
    server.on('data', (chunk) => {
      if (!link.frozen) {
        client.write(chunk);
        return;
      }
      link.held.push(chunk);
      const bytes = this.heldBytes;
      this.heldWaiters = this.heldWaiters.filter((waiter) => {
        if (waiter.bytes > bytes) return true;
        waiter.resolve();
        return false;
      });
    });
    const close = () => {
      this.links.delete(link);
      client.destroy();
      server.destroy();
    };
    client.on('close', close).on('error', close);
    server.on('close', close).on('error', close);
  }
}

function addressOf(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}
