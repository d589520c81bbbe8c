/** Temporal connection settings (address, TLS / mTLS, API key) for the API, the worker and the start-up script. */
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import type { Config } from './config';

export interface TemporalConnectionSettings {
  address: string;
  /** TLS / mTLS: `true` for TLS with the system's CAs (Temporal Cloud with an API key), or the PEM bytes. */
  tls?: TLSConfig | true;
  apiKey?: string;
}

/** Reads the PEM files named by TEMPORAL_TLS_*; an API key alone means TLS with the system's CAs (Temporal Cloud). */
export function temporalConnectionSettings(temporal: Config['temporal']): TemporalConnectionSettings {
  if (!temporal.address) throw new Error('TEMPORAL_ADDRESS is not set');
  const { tls, apiKey } = temporal;
  const pem = (file: string, variable: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
  };
  let tlsConfig: TLSConfig | true | undefined;
  if (tls) {
    tlsConfig = {
      ...(tls.caPath ? { serverRootCACertificate: pem(tls.caPath, 'TEMPORAL_TLS_CA') } : {}),
      ...(tls.certPath && tls.keyPath
        ? { clientCertPair: { crt: pem(tls.certPath, 'TEMPORAL_TLS_CERT'), key: pem(tls.keyPath, 'TEMPORAL_TLS_KEY') } }
        : {}),
    };
  } else if (apiKey) {
    tlsConfig = true;
  }
  return { address: temporal.address, ...(tlsConfig ? { tls: tlsConfig } : {}), ...(apiKey ? { apiKey } : {}) };
}

export async function connectTemporalClient(opts: { namespace: string } & TemporalConnectionSettings): Promise<Client> {
  const { namespace, ...settings } = opts;
  const connection = await Connection.connect({ ...settings, connectTimeout: '5s' });
  return new Client({ connection, namespace });
}
