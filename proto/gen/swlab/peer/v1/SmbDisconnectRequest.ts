// Original file: /work/main/proto/peer.proto


/**
 * A session is gone (logoff, a reclaiming PreviousSessionId, its node down): owners
 * preserve its durable opens.
 */
export interface SmbDisconnectRequest {
  'sessionKey'?: (string);
  /**
   * LOGOFF closes the session's opens; a lost or reclaimed session only preserves them.
   */
  'close'?: (boolean);
}

/**
 * A session is gone (logoff, a reclaiming PreviousSessionId, its node down): owners
 * preserve its durable opens.
 */
export interface SmbDisconnectRequest__Output {
  'sessionKey': (string);
  /**
   * LOGOFF closes the session's opens; a lost or reclaimed session only preserves them.
   */
  'close': (boolean);
}
