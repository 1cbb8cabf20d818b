/** GSM 03.38 basic character set (one septet each). */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** GSM 03.38 extension table (escape + character: two septets each). */
const GSM_EXTENDED = '^{}\\[]~|€\f';

export interface SegmentInfo {
  readonly encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  readonly units: number;
  readonly segments: number;
}

/**
 * Segments an SMS body uses (reference §2.9): GSM-7 160 single / 153 per concatenated part, UCS-2 70 / 67;
 * one non-GSM character switches the whole body to UCS-2; extension characters cost two septets;
 * characters outside the BMP cost two UCS-2 units.
 */
export function smsSegments(body: string): SegmentInfo {
  let septets = 0;
  let gsm = true;
  for (const char of body) {
    if (GSM_BASIC.includes(char)) {
      septets += 1;
    } else if (GSM_EXTENDED.includes(char)) {
      septets += 2;
    } else {
      gsm = false;
      break;
    }
  }
  if (gsm) {
    return { encoding: 'GSM-7', units: septets, segments: count(septets, 160, 153) };
  }
  return { encoding: 'UCS-2', units: body.length, segments: count(body.length, 70, 67) };
}

function count(units: number, single: number, part: number): number {
  if (units === 0) {
    return 1;
  }
  return units <= single ? 1 : Math.ceil(units / part);
}
