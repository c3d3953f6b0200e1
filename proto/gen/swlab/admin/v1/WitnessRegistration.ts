// Original file: /work/main/proto/admin.proto


export interface WitnessRegistration {
  'registrationId'?: (string);
  'version'?: (number);
  'principal'?: (string);
  'netName'?: (string);
  'shareName'?: (string);
  'ipAddress'?: (string);
  'clientComputerName'?: (string);
  'ipNotification'?: (boolean);
  'keepAliveTimeout'?: (number);
  'asyncNotifyPending'?: (boolean);
  'pendingNotifications'?: (number);
  'node'?: (string);
}

export interface WitnessRegistration__Output {
  'registrationId': (string);
  'version': (number);
  'principal': (string);
  'netName': (string);
  'shareName': (string);
  'ipAddress': (string);
  'clientComputerName': (string);
  'ipNotification': (boolean);
  'keepAliveTimeout': (number);
  'asyncNotifyPending': (boolean);
  'pendingNotifications': (number);
  'node': (string);
}
