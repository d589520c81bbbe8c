/** Intercom: the access token is accepted (GET /me) and the contact attributes memberops writes exist. */
import { IntercomError } from 'intercom-client';
import { CRM_ATTRIBUTES } from '../../activities/crm-sync';
import { createIntercomClient } from '../../lib/clients';
import type { Config } from '../../lib/config';
import { fail, ok, reason, skip, type CheckResult } from './check';

export async function intercomChecks(config: Config['intercom']): Promise<CheckResult[]> {
  if (!config.accessToken) {
    return [
      skip(
        'intercom.token',
        'INTERCOM_ACCESS_TOKEN is not set: CRM sync is off and notices are only logged',
        'Set INTERCOM_ACCESS_TOKEN to sync members to Intercom and send them notices.',
      ),
      skip('intercom.attributes', 'no Intercom token'),
    ];
  }
  const client = createIntercomClient({ token: config.accessToken, baseUrl: config.baseUrl, timeoutMs: 5000 });
  try {
    const me = await client.admins.identify();
    const app = me?.app?.name ? ` in workspace "${me.app.name}"` : '';
    const token = ok('intercom.token', `valid, acting as admin ${me?.id ?? '?'}${app}`);
    try {
      const listed = await client.dataAttributes.list({ model: 'contact' });
      const have = new Set((listed.data ?? []).filter((a) => a.custom && !a.archived).map((a) => a.name));
      const missing = CRM_ATTRIBUTES.filter((a) => !have.has(a.name));
      return [
        token,
        missing.length === 0
          ? ok('intercom.attributes', `contact attributes ${CRM_ATTRIBUTES.map((a) => a.name).join(', ')} exist`)
          : fail(
              'intercom.attributes',
              `missing contact attributes: ${missing.map((a) => `${a.name} (${a.data_type})`).join(', ')}`,
              'Create them in Intercom (Settings → Data → People → Create attribute), or give the token write access to data attributes: the worker then creates them on its first sync.',
            ),
      ];
    } catch (err) {
      return [
        token,
        fail(
          'intercom.attributes',
          `cannot list data attributes: ${reason(err)}`,
          'Give the token read access to data attributes.',
        ),
      ];
    }
  } catch (err) {
    const status = err instanceof IntercomError ? err.statusCode : undefined;
    return [
      status === 401
        ? fail(
            'intercom.token',
            'Intercom refused the token (401): revoked, expired or of another workspace',
            'Create a new access token (Developer Hub → your app → Authentication) and put it in INTERCOM_ACCESS_TOKEN.',
          )
        : fail(
            'intercom.token',
            `Intercom did not answer GET /me: ${reason(err)}`,
            'Check INTERCOM_BASE_URL (region) and the network.',
          ),
      skip('intercom.attributes', 'token not usable'),
    ];
  }
}
