/** xcron's version, sent as `User-Agent: xcron/<version>` (kept equal to package.json's). */
export const XCRON_VERSION = '0.1.0';

export const XCRON_USER_AGENT = `xcron/${XCRON_VERSION}`;
