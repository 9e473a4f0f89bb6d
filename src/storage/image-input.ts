import { InvalidArgumentError } from '../errors/trainledger-error.js';

/** A value that can be put as an image: HWC pixels, uint8 in [0, 255] or float in [0, 1]. */
export interface ImageInput {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly data: Uint8Array | Float32Array | readonly number[];
}

/**
 * The pixels of `image` as the image event stores them: HWC uint8, base64 (floats in [0, 1] are
 * clamped and scaled to [0, 255]). Throws InvalidArgumentError when the shape does not fit.
 *
 * @example
 * ```ts
 * imagePixels('mask', { height: 1, width: 2, channels: 1, data: [0, 1] }); // 'AP8='
 * ```
 */
export function imagePixels(name: string, image: ImageInput): string {
  const { height, width, channels, data } = image;
  if (![1, 3, 4].includes(channels) || !(height > 0) || !(width > 0) || data.length !== height * width * channels) {
    throw new InvalidArgumentError(
      `putImage(${JSON.stringify(name)}) expects HWC data of height×width×channels (channels 1, 3 or 4) = ${height}×${width}×${channels}, got ${data.length} values`,
    );
  }
  const bytes = data instanceof Uint8Array ? data : Uint8Array.from(data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
  return Buffer.from(bytes).toString('base64');
}
