/** Intercom data attributes: the standard ones of a contact and the custom ones a workspace defines. */
import { now, type Json } from '../scaffold';
import { ADMIN, ApiError, ok, str, type IntercomRoute } from './common';
import type { FakeDataAttribute, IntercomWorkspace } from './workspace';

const attributeJson = (a: FakeDataAttribute): Json => ({
  id: a.id,
  type: 'data_attribute',
  name: a.name,
  full_name: a.custom ? `custom_attributes.${a.name}` : a.name,
  label: a.name,
  description: a.description,
  data_type: a.data_type,
  ...(a.options ? { options: a.options } : {}),
  api_writable: true,
  ui_writable: !a.custom,
  messenger_writable: false,
  custom: a.custom,
  archived: false,
  admin_id: a.custom ? ADMIN.id : null,
  created_at: a.created_at,
  updated_at: a.created_at,
  model: a.model,
});

export function dataAttributeRoutes(ws: IntercomWorkspace): IntercomRoute[] {
  return [
    [
      'GET',
      /^\/data_attributes$/,
      (_p, _b, q) => {
        const model = q.get('model');
        return ok({ type: 'list', data: ws.attributes.filter((a) => !model || a.model === model).map(attributeJson) });
      },
    ],
    [
      'POST',
      /^\/data_attributes$/,
      (_p, b) => {
        const name = str(b.name);
        const model = str(b.model);
        const dataType = str(b.data_type);
        if (!name) throw new ApiError(400, 'parameter_invalid', 'Name is required');
        if (model !== 'contact' && model !== 'company')
          throw new ApiError(400, 'parameter_invalid', 'Model must be contact or company');
        if (!dataType || !['string', 'integer', 'float', 'boolean', 'date', 'datetime', 'options'].includes(dataType)) {
          throw new ApiError(400, 'parameter_invalid', 'Data type is invalid');
        }
        const other = ws.attributes.find((a) => a.name === name);
        if (other) {
          const where = other.model === 'contact' ? 'people' : 'company';
          throw new ApiError(
            400,
            'parameter_invalid',
            `You already have '${name}' in your ${where} data. To save this as new ${model === 'contact' ? 'people' : 'company'} data, use a different name.`,
          );
        }
        const options = Array.isArray(b.options) ? b.options.map((o: Json) => String(o.value)) : undefined;
        const attribute: FakeDataAttribute = {
          id: 100 + ++ws.seq,
          name,
          model,
          data_type: dataType,
          description: str(b.description) ?? '',
          custom: true,
          options,
          created_at: now(),
        };
        ws.attributes.push(attribute);
        return ok(attributeJson(attribute));
      },
    ],
  ];
}
