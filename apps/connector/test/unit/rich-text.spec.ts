import { describe, expect, it } from '@jest/globals';
import { htmlToPlainText, splitText, toTelegramHtml } from '../../src/providers/rich-text.js';

describe('HubSpot rich text → Telegram HTML', () => {
  it('maps formatting to the supported tags and blocks to line breaks', () => {
    expect(
      toTelegramHtml('<p>Hello <strong>Ana</strong>, <em>thanks</em>!</p><p><u>Order</u> <s>old</s></p>'),
    ).toBe('Hello <b>Ana</b>, <i>thanks</i>!\n<u>Order</u> <s>old</s>');
    expect(toTelegramHtml('<ul><li>one</li><li>two</li></ul><blockquote>quoted</blockquote>')).toBe(
      '• one\n• two\n<blockquote>quoted</blockquote>',
    );
    expect(toTelegramHtml('Line<br>next<br/>last')).toBe('Line\nnext\nlast');
  });

  it('keeps safe links, drops unsafe ones and unknown tags, and escapes text', () => {
    expect(toTelegramHtml('<a href="https://acme.example/t?a=1&amp;b=2">track</a>')).toBe(
      '<a href="https://acme.example/t?a=1&amp;b=2">track</a>',
    );
    expect(toTelegramHtml('<a href="javascript:alert(1)">x</a><span style="color:red">red</span>')).toBe(
      'xred',
    );
    expect(toTelegramHtml('<p>1 &lt; 2 &amp; 3 &gt; 2 &nbsp;ok</p>')).toBe('1 &lt; 2 &amp; 3 &gt; 2  ok');
    expect(toTelegramHtml('<p>a < b</p>')).toBe('a &lt; b');
  });

  it('closes tags left open and never nests a tag in itself', () => {
    expect(toTelegramHtml('<b>bold <strong>still</strong> <i>both')).toBe('<b>bold still <i>both</i></b>');
  });

  it('produces plain text for SMS', () => {
    expect(
      htmlToPlainText('<p>Hi <b>Ana</b></p><p>See <a href="https://x.example">this</a> &amp; that</p>'),
    ).toBe('Hi Ana\nSee this (https://x.example) & that');
    expect(
      htmlToPlainText(
        '<a href="https://x.example">https://x.example</a> or <a href="mailto:a@b.co">a@b.co</a>',
      ),
    ).toBe('https://x.example or a@b.co');
    expect(htmlToPlainText('<a href="javascript:alert(1)">click</a>')).toBe('click');
  });

  it('splits long text at line or word boundaries within the limit', () => {
    const pieces = splitText(`${'word '.repeat(30)}\n${'more '.repeat(30)}`, 100);
    expect(pieces.every((piece) => piece.length <= 100)).toBe(true);
    expect(pieces.join(' ').replace(/\s+/g, ' ').trim()).toBe(
      `${'word '.repeat(30)}${'more '.repeat(30)}`.trim(),
    );
  });
});
