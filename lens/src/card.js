/**
 * The card of an artwork or a detail: image, title, artist, text, audio, video, links, and
 * text-to-speech (Web Speech API) in the chosen language when the curators gave no audio.
 */

import { pick, pickOne, plainText } from './guide.js';

export class Card {
  constructor(dialog, { onClose } = {}) {
    this.dialog = dialog;
    this.onClose = onClose;
    this.el = (id) => dialog.querySelector(`#${id}`);
    this.item = null;
    this.openedAt = 0;
    this.el('card-close').addEventListener('click', () => this.close());
    dialog.addEventListener('close', () => this.closed());
    dialog.addEventListener('click', (event) => { if (event.target === dialog) this.close(); });
    this.el('card-speak').addEventListener('click', () => this.speak());
  }

  get isOpen() { return this.dialog.open; }

  /** Show ``item`` of ``guide`` ({items, baseUrl, bundle}) in ``language``. */
  open(item, guide, language) {
    const languages = guide.bundle.languages || [];
    const text = (map) => pick(map, language, languages).map(plainText);
    const parent = item.kind === 'detail' ? guide.items.get(item.parent) : null;
    this.item = item;
    this.language = language;
    this.dialog.dataset.item = item.id;
    this.dialog.lang = language === 'none' ? '' : language;
    this.el('card-title').textContent = text(item.title).join(' ') || item.id;
    const artist = text(item.artist).length ? text(item.artist) : text(parent && parent.artist);
    const of = parent ? text(parent.title).join(' ') : '';
    this.el('card-artist').textContent = [of, artist.join(', ')].filter(Boolean).join(' · ');
    const paragraphs = text(item.text).flatMap((t) => t.split(/\n{2,}/)).filter((t) => t.trim());
    this.el('card-text').replaceChildren(...paragraphs.map((t) => Object.assign(document.createElement('p'),
      { textContent: t })));
    this.spoken = [this.el('card-title').textContent, ...paragraphs].join('. ');

    const media = [];
    const audio = pickOne(item.audio, language, languages);
    const video = pickOne(item.video, language, languages);
    if (audio) media.push(mediaElement('audio', audio));
    if (video) media.push(mediaElement('video', video));
    this.el('card-media').replaceChildren(...media);
    const canSpeak = !audio && paragraphs.length > 0 && 'speechSynthesis' in window;
    this.el('card-speak').hidden = !canSpeak;

    this.el('card-links').replaceChildren(...(item.links || []).filter((l) => /^https?:/.test(l.href || ''))
      .map((link) => {
        const a = Object.assign(document.createElement('a'), {
          href: link.href, textContent: text(link.label).join(' ') || link.href, target: '_blank', rel: 'noopener',
        });
        const li = document.createElement('li');
        li.append(a);
        return li;
      }));
    this.drawImage(item, parent, guide.baseUrl);
    if (!this.dialog.open) {
      this.dialog.showModal();
      this.openedAt = performance.now(); // a change of language is the same visit of the card
    }
  }

  drawImage(item, parent, baseUrl) {
    const canvas = this.el('card-image');
    const source = item.image ? item : parent;
    const region = item.kind === 'detail' && Array.isArray(item.region) ? item.region : null;
    canvas.classList.add('empty');
    if (!source || !source.image) return;
    const image = new Image();
    image.onload = () => {
      if (this.item !== item) return;
      // Bundle regions are in the reference image's pixels ("size"); the card image may be another size.
      const scale = source.size ? image.naturalWidth / source.size[0] : 1;
      const [x, y, w, h] = region && !item.image ? region.map((v) => v * scale)
        : [0, 0, image.naturalWidth, image.naturalHeight];
      canvas.width = Math.max(1, Math.round(w));
      canvas.height = Math.max(1, Math.round(h));
      canvas.getContext('2d').drawImage(image, x, y, w, h, 0, 0, canvas.width, canvas.height);
      canvas.setAttribute('aria-label', this.el('card-title').textContent);
      canvas.classList.remove('empty');
    };
    image.src = new URL(source.image, baseUrl).href;
  }

  speak() {
    const synth = window.speechSynthesis;
    synth.cancel();
    const utterance = new SpeechSynthesisUtterance(this.spoken);
    if (this.language && this.language !== 'none') {
      utterance.lang = this.language;
      const base = this.language.split('-')[0];
      const voice = synth.getVoices().find((v) => v.lang === this.language)
        || synth.getVoices().find((v) => v.lang.split('-')[0] === base);
      if (voice) utterance.voice = voice;
    }
    synth.speak(utterance);
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  closed() {
    if ('speechSynthesis' in window) window.speechSynthesis.cancel();
    for (const media of this.dialog.querySelectorAll('audio, video')) media.pause();
    const item = this.item;
    this.item = null;
    delete this.dialog.dataset.item;
    if (item && this.onClose) this.onClose(item, Math.round(performance.now() - this.openedAt));
  }
}

function mediaElement(kind, src) {
  const element = document.createElement(kind);
  element.controls = true;
  element.preload = 'none';
  if (kind === 'video') element.playsInline = true;
  element.src = src;
  return element;
}
