import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { ToolError } from '../server-tool.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Which addresses `http_get` may connect to: public unicast ones, and any in
 * the networks configured as allowed (TOOLS_HTTP_ALLOWED_NETWORKS). An
 * allow-listed host name proves nothing about where it points (a wildcard
 * entry, DNS rebinding): the check is on the address the socket connects
 * to, inside the connection's own DNS lookup, so nothing can change between
 * check and use.
 */
export class AddressPolicy {
  private readonly allowed: [Address, number][];

  constructor(allowedNetworks: readonly string[]) {
    this.allowed = allowedNetworks.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  /** Why an address is refused (its kind, e.g. "loopback"), or undefined when it may be reached. */
  refusal(address: string): string | undefined {
    const parsed = ipaddr.process(address);
    if (this.allowed.some(([network, bits]) => parsed.kind() === network.kind() && parsed.match(network, bits))) return undefined;
    const range = parsed.range();
    return range === 'unicast' ? undefined : range;
  }

  /** Throws for an IP literal that is refused (a name is checked as it resolves, in `lookup`). */
  checkLiteral(host: string): void {
    const literal = host.replace(/^\[(.*)\]$/, '$1');
    if (!ipaddr.isValid(literal)) return;
    const why = this.refusal(literal);
    if (why) throw new ToolError(`${host} is a ${why} address, which http_get may not reach`);
  }

  /** A `lookup` for net.connect: the system's, with refused addresses left out (an error when none is left). */
  readonly lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const usable = addresses.filter(({ address }) => this.refusal(address) === undefined);
      if (usable.length === 0) {
        const first = addresses.at(0);
        const why = first ? `resolves to ${first.address}, a ${this.refusal(first.address)} address` : 'resolves to no address';
        return callback(new ToolError(`${hostname} ${why}, which http_get may not reach`), []);
      }
      if (options.all) return callback(null, usable);
      callback(null, usable[0].address, usable[0].family);
    });
  };
}
