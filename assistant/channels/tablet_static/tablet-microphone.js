/* The microphone as 16 kHz 16-bit mono PCM in 100 ms chunks, for WS /tablet.
   Loaded twice: as an AudioWorklet module (where it registers the processor)
   and as a plain script (where it lends the downsampler to the
   ScriptProcessor fallback for browsers without AudioWorklet). */
(function (scope) {
  "use strict";

  var TARGET_RATE = 16000;
  var CHUNK_SAMPLES = 1600;

  // Averages the input samples that fall in each output sample's period (a
  // simple low-pass filter against aliasing), then keeps one in every period.
  function Downsampler(fromRate) {
    this.ratio = Math.max(1, fromRate / TARGET_RATE);
    this.position = 0;
    this.sum = 0;
    this.count = 0;
    this.chunk = new Int16Array(CHUNK_SAMPLES);
    this.filled = 0;
  }

  Downsampler.prototype.push = function (input, emit) {
    for (var i = 0; i < input.length; i++) {
      this.sum += input[i];
      this.count += 1;
      this.position += 1;
      if (this.position < this.ratio) continue;
      this.position -= this.ratio;
      var value = Math.max(-1, Math.min(1, this.sum / this.count));
      this.sum = 0;
      this.count = 0;
      this.chunk[this.filled++] = value < 0 ? value * 0x8000 : value * 0x7fff;
      if (this.filled === CHUNK_SAMPLES) {
        emit(this.chunk.buffer.slice(0));
        this.filled = 0;
      }
    }
  };

  scope.HelpingHandsDownsampler = Downsampler;

  if (typeof AudioWorkletProcessor !== "undefined" && typeof registerProcessor === "function") {
    class MicrophoneProcessor extends AudioWorkletProcessor {
      constructor() {
        super();
        this.downsampler = new Downsampler(sampleRate);
      }

      process(inputs) {
        var channel = inputs[0] && inputs[0][0];
        if (channel) {
          var port = this.port;
          this.downsampler.push(channel, function (buffer) {
            port.postMessage(buffer, [buffer]);
          });
        }
        return true;
      }
    }
    registerProcessor("helping-hands-microphone", MicrophoneProcessor);
  }
})(globalThis);
