/**
 * Steadies the recognizer's decisions frame to frame: an artwork is shown once it was
 * recognised in ``confirm`` frames in a row and hidden after ``release`` frames without it,
 * so that one odd frame neither flashes a card nor hides one. Measures how long each artwork
 * and detail stayed in view (the dwell time of the statistics).
 */

export class Tracker {
  constructor({ confirm = 2, release = 4, now = () => performance.now() } = {}) {
    this.confirm = confirm;
    this.release = release;
    this.now = now;
    this.candidate = null;
    this.streak = 0;
    this.misses = 0;
    this.shown = null; // the latest decision of the artwork shown
    this.since = 0;
    this.detail = null;
    this.detailSince = 0;
  }

  /**
   * Feed one decision ({artwork, detail, ...} or one with artwork null). Returns
   * {shown: decision|null, ended: [{item, kind, dwellMs}], started: [item ids]}.
   */
  update(decision) {
    const artwork = decision && decision.artwork ? decision.artwork : null;
    const t = this.now();
    const ended = [];
    const started = [];
    if (artwork && artwork === this.candidate) this.streak += 1;
    else { this.candidate = artwork; this.streak = artwork ? 1 : 0; }

    if (this.shown && artwork === this.shown.artwork) {
      this.misses = 0;
      this.shown = decision;
    } else if (this.shown) {
      this.misses += 1;
      if (this.misses >= this.release || (artwork && this.streak >= this.confirm)) {
        ended.push(...this.end(t));
      }
    }
    if (!this.shown && artwork && this.streak >= this.confirm) {
      this.shown = decision;
      this.since = t;
      this.misses = 0;
      started.push(artwork);
    }
    const detail = this.shown && this.misses === 0 ? this.shown.detail || null : this.detail;
    if (detail !== this.detail) {
      if (this.detail) ended.push({ item: this.detail, kind: 'detail', dwellMs: Math.round(t - this.detailSince) });
      this.detail = detail;
      this.detailSince = t;
      if (detail) started.push(detail);
    }
    return { shown: this.shown, ended, started };
  }

  end(t = this.now()) {
    const ended = [];
    if (this.detail) {
      ended.push({ item: this.detail, kind: 'detail', dwellMs: Math.round(t - this.detailSince) });
      this.detail = null;
    }
    if (this.shown) ended.push({ item: this.shown.artwork, kind: 'artwork', dwellMs: Math.round(t - this.since) });
    this.shown = null;
    this.misses = 0;
    return ended;
  }
}
