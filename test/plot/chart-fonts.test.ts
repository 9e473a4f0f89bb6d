import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { CHART_FONT_FAMILY, chartFontOptions } from '../../src/plot/index.js';

test('chartFontOptions uses only the bundled font files when they are installed, and system fonts otherwise', () => {
  const options = chartFontOptions();
  if (options.fontFiles.length > 0) {
    assert.equal(options.loadSystemFonts, false);
    assert.equal(options.defaultFontFamily, CHART_FONT_FAMILY);
    for (const file of options.fontFiles) assert.ok(existsSync(file), `font file ${file} is missing`);
    assert.ok(options.fontFiles.every((file) => file.endsWith('.ttf')));
  } else {
    assert.equal(options.loadSystemFonts, true);
  }
});

test('chartFontOptions resolves the fonts once and returns the same options afterwards', () => {
  assert.equal(chartFontOptions(), chartFontOptions());
});
