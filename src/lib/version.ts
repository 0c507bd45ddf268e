/** The software version nodes put in their telemetry beacons; equals package.json "version" (a unit test checks). */
export const TABULA_VERSION = '0.1.0';
