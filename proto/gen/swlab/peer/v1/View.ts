// Original file: /work/main/proto/peer.proto

import type { Member as _swlab_peer_v1_Member, Member__Output as _swlab_peer_v1_Member__Output } from '../../../swlab/peer/v1/Member.js';
import type { CsvOwner as _swlab_peer_v1_CsvOwner, CsvOwner__Output as _swlab_peer_v1_CsvOwner__Output } from '../../../swlab/peer/v1/CsvOwner.js';

/**
 * A membership view: who is up, who votes, who owns which CSV.
 */
export interface View {
  'epoch'?: (number);
  /**
   * Term of the leader that proposed this view.
   */
  'viewTerm'?: (number);
  'leaderId'?: (string);
  'members'?: (_swlab_peer_v1_Member)[];
  'csvs'?: (_swlab_peer_v1_CsvOwner)[];
}

/**
 * A membership view: who is up, who votes, who owns which CSV.
 */
export interface View__Output {
  'epoch': (number);
  /**
   * Term of the leader that proposed this view.
   */
  'viewTerm': (number);
  'leaderId': (string);
  'members': (_swlab_peer_v1_Member__Output)[];
  'csvs': (_swlab_peer_v1_CsvOwner__Output)[];
}
