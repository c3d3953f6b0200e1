// Original file: /work/main/proto/admin.proto

import type { WitnessRegistration as _swlab_admin_v1_WitnessRegistration, WitnessRegistration__Output as _swlab_admin_v1_WitnessRegistration__Output } from '../../../swlab/admin/v1/WitnessRegistration.js';

export interface WitnessListReply {
  'ok'?: (boolean);
  'error'?: (string);
  'registrations'?: (_swlab_admin_v1_WitnessRegistration)[];
}

export interface WitnessListReply__Output {
  'ok': (boolean);
  'error': (string);
  'registrations': (_swlab_admin_v1_WitnessRegistration__Output)[];
}
