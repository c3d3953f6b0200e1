// Original file: /work/main/proto/cbt.proto

import type { ChangedRange as _swlab_cbt_v1_ChangedRange, ChangedRange__Output as _swlab_cbt_v1_ChangedRange__Output } from '../../../swlab/cbt/v1/ChangedRange.js';

export interface ChangesReply {
  /**
   * False when the filter cannot answer (tracking lost, no filter, not the owner): see error.
   */
  'ok'?: (boolean);
  'error'?: (string);
  'referenceId'?: (string);
  /**
   * The node whose filter answered.
   */
  'node'?: (string);
  'ranges'?: (_swlab_cbt_v1_ChangedRange)[];
  'fileBytes'?: (number | string);
  'changedBytes'?: (number | string);
}

export interface ChangesReply__Output {
  /**
   * False when the filter cannot answer (tracking lost, no filter, not the owner): see error.
   */
  'ok': (boolean);
  'error': (string);
  'referenceId': (string);
  /**
   * The node whose filter answered.
   */
  'node': (string);
  'ranges': (_swlab_cbt_v1_ChangedRange__Output)[];
  'fileBytes': (number);
  'changedBytes': (number);
}
