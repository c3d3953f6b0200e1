// Original file: /work/main/proto/smb.proto


/**
 * The parts of the SMB2 header the emulation needs.
 */
export interface Header {
  'connectionId'?: (string);
  'sessionId'?: (string);
  'treeId'?: (string);
  /**
   * Open.ChannelSequence checks (MS-SMB2 3.3.5.2.10).
   */
  'channelSequence'?: (number);
  /**
   * SMB2_FLAGS_REPLAY_OPERATION 0x20.
   */
  'flags'?: (number);
  /**
   * A replay carries the MessageId of the request it repeats.
   */
  'messageId'?: (string);
}

/**
 * The parts of the SMB2 header the emulation needs.
 */
export interface Header__Output {
  'connectionId': (string);
  'sessionId': (string);
  'treeId': (string);
  /**
   * Open.ChannelSequence checks (MS-SMB2 3.3.5.2.10).
   */
  'channelSequence': (number);
  /**
   * SMB2_FLAGS_REPLAY_OPERATION 0x20.
   */
  'flags': (number);
  /**
   * A replay carries the MessageId of the request it repeats.
   */
  'messageId': (string);
}
