"""Audio features (MFCC) and the single home of audio <-> video timing math."""
