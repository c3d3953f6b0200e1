// Original file: /work/main/proto/admin.proto

import type { WitnessFilter as _swlab_admin_v1_WitnessFilter, WitnessFilter__Output as _swlab_admin_v1_WitnessFilter__Output } from '../../../swlab/admin/v1/WitnessFilter.js';

export interface WitnessListRequest {
  'filter'?: (_swlab_admin_v1_WitnessFilter | null);
}

export interface WitnessListRequest__Output {
  'filter': (_swlab_admin_v1_WitnessFilter__Output | null);
}
