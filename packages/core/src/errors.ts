/** Base class of every error bloodcell throws on purpose; `code` is stable across versions. */
export class BloodcellError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A model bundle is missing, malformed, or does not match what the code expects. */
export class BundleError extends BloodcellError {}

/** An input image cannot be used: wrong shape, wrong type, undecodable or too large. */
export class ImageInputError extends BloodcellError {}

/** A caller passed an option outside its valid choices. */
export class OptionError extends BloodcellError {}
