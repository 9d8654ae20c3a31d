export { PeerTransport } from './peer-transport';
export type {
  MessageHandler,
  PeerHelloHandler,
  PeerHelloInfo,
  PeerLinkDownHandler,
  PeerReachability,
  RequestHandler,
  RequestOptions,
} from './peer-transport';
export type { PeerEndpoint, PeerTransportOptions, TransportLogger } from './transport.options';
export type { PeerHello } from './hello-message';
export type { PeerStats, TransportStats } from './transport-stats';
export {
  OTHER_PEERS_STATS_KEY,
  PROTOCOL_VERSION,
  TRANSPORT_LIMITS_DEFAULT,
} from './transport.constants';
export type { TransportLimits } from './transport.constants';
export {
  ConnectionLostError,
  MalformedFrameError,
  RemoteHandlerError,
  RequestTimeoutError,
  TransportError,
  TransportErrorCode,
  TransportStoppedError,
} from './transport.errors';
