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
  /**
   * Set when a client reclaimed the session with SMB2 PreviousSessionId (MS-SMB2 3.3.5.5.3),
   * maybe on another node: the user it authenticated as. Only that user's session and opens end.
   */
  'reclaimedBy'?: (string);
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
  /**
   * Set when a client reclaimed the session with SMB2 PreviousSessionId (MS-SMB2 3.3.5.5.3),
   * maybe on another node: the user it authenticated as. Only that user's session and opens end.
   */
  'reclaimedBy': (string);
}
