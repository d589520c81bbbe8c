/**
 * A local authoritative DNS server (dns2, UDP on 127.0.0.1 and an ephemeral port) answering TXT records from a zone a
 * test edits: names without records get an empty NOERROR answer, as a real server gives for a name with no TXT.
 */
import { Packet, createServer } from 'dns2';

export interface FakeDns {
  /** `127.0.0.1:PORT`, for `Resolver.setServers` (DOCTOR_DNS_SERVERS). */
  readonly server: string;
  /** Replaces the TXT records of a name; an empty list removes them. */
  setTxt(name: string, records: string[]): void;
  /** Forgets every record. */
  clear(): void;
  close(): Promise<void>;
}

/** A TXT value longer than 255 bytes goes out as several character-strings (RFC 1035 §3.3.14), as DKIM keys do. */
const chunks = (value: string): string[] => value.match(/.{1,255}/gs) ?? [''];

export async function startFakeDns(): Promise<FakeDns> {
  const zone = new Map<string, string[]>();
  const dns = createServer({
    udp: true,
    handle(request, send) {
      const response = Packet.createResponseFromRequest(request) as unknown as {
        answers: Array<Record<string, unknown>>;
      };
      for (const q of request.questions as Array<{ name: string; type?: number }>) {
        if (q.type !== Packet.TYPE.TXT) continue;
        for (const value of zone.get(q.name.toLowerCase()) ?? []) {
          response.answers.push({
            name: q.name,
            type: Packet.TYPE.TXT,
            class: Packet.CLASS.IN,
            ttl: 1,
            data: chunks(value),
          });
        }
      }
      // A failed send is the resolver's timeout in the test, which then fails naming the lookup.
      void send(response as never);
    },
  });
  await dns.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const port = dns.addresses().udp?.port;
  if (!port) throw new Error('fake DNS did not get a UDP port');
  return {
    server: `127.0.0.1:${port}`,
    setTxt(name, records) {
      if (records.length === 0) zone.delete(name.toLowerCase());
      else zone.set(name.toLowerCase(), records);
    },
    clear: () => zone.clear(),
    close: () => dns.close(),
  };
}
