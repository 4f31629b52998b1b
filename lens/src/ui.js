/**
 * The app's own words (not the guide's texts) in the visitor's language, when we have them;
 * English otherwise.
 */

const WORDS = {
  en: { photo: 'Take a photo', nothing: 'Nothing recognised in this photo: try again, closer.',
    point: 'Point the camera at an artwork', guide: 'Loading the guide…', models: 'Loading the recognition models…',
    camera: 'Starting the camera…', language: 'Language', mode: 'Mode', listen: 'Listen', close: 'Close',
    noGuide: 'The guide could not be loaded ({0}). Check the connection and reload.',
    noRecognition: 'Recognition is not available here ({0}).',
    noCamera: 'The camera is not available ({0}). Allow the camera and reload.' },
  it: { photo: 'Scatta una foto', nothing: 'Nessuna opera riconosciuta in questa foto: riprova, più da vicino.',
    point: "Inquadra un'opera con la fotocamera", guide: 'Caricamento della guida…',
    models: 'Caricamento dei modelli di riconoscimento…', camera: 'Avvio della fotocamera…', language: 'Lingua',
    mode: 'Modalità', listen: 'Ascolta', close: 'Chiudi',
    noGuide: 'Impossibile caricare la guida ({0}). Controlla la connessione e ricarica.',
    noRecognition: 'Il riconoscimento non è disponibile qui ({0}).',
    noCamera: 'La fotocamera non è disponibile ({0}). Consenti la fotocamera e ricarica.' },
  fr: { photo: 'Prendre une photo', nothing: 'Rien de reconnu sur cette photo : réessayez, de plus près.',
    point: 'Pointez la caméra vers une œuvre', guide: 'Chargement du guide…',
    models: 'Chargement des modèles de reconnaissance…', camera: 'Démarrage de la caméra…', language: 'Langue',
    mode: 'Mode', listen: 'Écouter', close: 'Fermer',
    noGuide: 'Le guide n’a pas pu être chargé ({0}). Vérifiez la connexion et rechargez.',
    noRecognition: 'La reconnaissance n’est pas disponible ici ({0}).',
    noCamera: 'La caméra n’est pas disponible ({0}). Autorisez la caméra et rechargez.' },
  de: { photo: 'Foto aufnehmen', nothing: 'Auf diesem Foto wurde nichts erkannt: noch einmal, näher.',
    point: 'Richten Sie die Kamera auf ein Kunstwerk', guide: 'Der Führer wird geladen…',
    models: 'Die Erkennungsmodelle werden geladen…', camera: 'Die Kamera wird gestartet…', language: 'Sprache',
    mode: 'Modus', listen: 'Anhören', close: 'Schließen',
    noGuide: 'Der Führer konnte nicht geladen werden ({0}). Verbindung prüfen und neu laden.',
    noRecognition: 'Die Erkennung ist hier nicht verfügbar ({0}).',
    noCamera: 'Die Kamera ist nicht verfügbar ({0}). Kamera erlauben und neu laden.' },
  es: { photo: 'Hacer una foto', nothing: 'No se reconoce nada en esta foto: inténtalo de nuevo, más cerca.',
    point: 'Apunta la cámara a una obra', guide: 'Cargando la guía…',
    models: 'Cargando los modelos de reconocimiento…', camera: 'Iniciando la cámara…', language: 'Idioma',
    mode: 'Modo', listen: 'Escuchar', close: 'Cerrar',
    noGuide: 'No se pudo cargar la guía ({0}). Comprueba la conexión y recarga.',
    noRecognition: 'El reconocimiento no está disponible aquí ({0}).',
    noCamera: 'La cámara no está disponible ({0}). Permite la cámara y recarga.' },
};

/** The word ``key`` in ``language`` (its base language, else English), ``{0}`` filled in. */
export function say(key, language = 'en', ...args) {
  const base = String(language || 'en').toLowerCase().split('-')[0];
  const text = (WORDS[base] && WORDS[base][key]) || WORDS.en[key] || key;
  return text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ''));
}
