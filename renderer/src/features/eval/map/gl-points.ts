// Hundreds of thousands of points with WebGL2 (gl.POINTS): a position and a colour attribute per point, and a
// flags byte (bit 0: caption, drawn round; bit 1: selected; bit 2: dimmed). Shaders are compiled by the GPU
// driver, not generated as JavaScript, so the app's CSP (no 'unsafe-eval') holds. A frame draws as many points as
// fit in its time (all of them on a GPU; a slice at a time where WebGL runs in software, as in SwiftShader, whose
// vertex work would otherwise hold the main thread for most of a second), in a shuffled order so that a partly
// drawn map is a fair sample of the whole.

export interface View {
  /** Zoom: 1 shows the whole map, whose positions are normalised to [-1, 1]. */
  scale: number;
  /** Pan, in normalised units. */
  tx: number;
  ty: number;
}

const VS = `#version 300 es
in vec2 a_pos;
in vec4 a_color;
in float a_flags;
uniform vec2 u_scale;
uniform vec2 u_t;
uniform float u_size;
out vec4 v_color;
flat out int v_flags;
void main() {
  gl_Position = vec4(a_pos * u_scale + u_t, 0.0, 1.0);
  int f = int(a_flags);
  v_flags = f;
  bool selected = (f & 2) != 0;
  bool dimmed = (f & 4) != 0;
  gl_PointSize = u_size * ((f & 1) != 0 ? 1.0 : 1.35) + (selected ? 2.0 : 0.0);
  v_color = dimmed ? vec4(a_color.rgb, 0.16) : a_color;
}`;

const FS = `#version 300 es
precision mediump float;
in vec4 v_color;
flat in int v_flags;
out vec4 outColor;
void main() {
  if ((v_flags & 1) != 0) {
    vec2 c = gl_PointCoord - 0.5;
    if (dot(c, c) > 0.25) discard;
  }
  outColor = vec4(v_color.rgb * v_color.a, v_color.a);
}`;

function shader(gl: WebGL2RenderingContext, type: number, src: string): WebGLShader {
  const s = gl.createShader(type)!;
  gl.shaderSource(s, src);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`WebGL shader: ${gl.getShaderInfoLog(s)}`);
  return s;
}

export class PointsRenderer {
  private readonly gl: WebGL2RenderingContext;
  private readonly program: WebGLProgram;
  private readonly buffers: { pos: WebGLBuffer; color: WebGLBuffer; flags: WebGLBuffer };
  private readonly vao: WebGLVertexArrayObject;
  private readonly order: WebGLBuffer;
  private count = 0;
  /** Points drawn per frame: grown while frames stay short, halved when one runs long. */
  private slice = 32_768;
  private next = 0;
  private view: View = { scale: 1, tx: 0, ty: 0 };
  private pending = 0;
  private lastFrame = 0;
  private waiters: (() => void)[] = [];

  /** Throws where the browser has no WebGL2 (the caller says so instead of drawing). */
  constructor(private readonly canvas: HTMLCanvasElement) {
    // the buffer is kept between frames: a map drawn over several frames accumulates
    const gl = canvas.getContext('webgl2', { antialias: false, premultipliedAlpha: true, preserveDrawingBuffer: true });
    if (!gl) throw new Error('This browser has no WebGL2: the whole map cannot be drawn.');
    this.gl = gl;
    const p = gl.createProgram()!;
    gl.attachShader(p, shader(gl, gl.VERTEX_SHADER, VS));
    gl.attachShader(p, shader(gl, gl.FRAGMENT_SHADER, FS));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(`WebGL program: ${gl.getProgramInfoLog(p)}`);
    this.program = p;
    this.vao = gl.createVertexArray()!;
    gl.bindVertexArray(this.vao);
    const attr = (name: string, size: number, type: number, normalized: boolean) => {
      const b = gl.createBuffer()!;
      const loc = gl.getAttribLocation(p, name);
      gl.bindBuffer(gl.ARRAY_BUFFER, b);
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, size, type, normalized, 0, 0);
      return b;
    };
    this.buffers = {
      pos: attr('a_pos', 2, gl.FLOAT, false),
      color: attr('a_color', 4, gl.UNSIGNED_BYTE, true),
      flags: attr('a_flags', 1, gl.UNSIGNED_BYTE, false),
    };
    this.order = gl.createBuffer()!;
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.order);
    gl.bindVertexArray(null);
  }

  /** Positions [n, 2] normalised to [-1, 1], colours [n, 4] RGBA, flags [n]. */
  setPoints(pos: Float32Array, color: Uint8Array, flags: Uint8Array) {
    const gl = this.gl;
    this.count = pos.length / 2;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers.pos);
    gl.bufferData(gl.ARRAY_BUFFER, pos, gl.STATIC_DRAW);
    // a seeded shuffle of the drawing order
    const order = Uint32Array.from({ length: this.count }, (_, i) => i);
    let seed = 2463534242;
    for (let i = order.length - 1; i > 0; i--) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const j = (seed >>> 0) % (i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    gl.bindVertexArray(this.vao);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.order);
    gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, order, gl.STATIC_DRAW);
    gl.bindVertexArray(null);
    this.setColors(color);
    this.setFlags(flags);
  }

  setColors(color: Uint8Array) {
    this.gl.bindBuffer(this.gl.ARRAY_BUFFER, this.buffers.color);
    this.gl.bufferData(this.gl.ARRAY_BUFFER, color, this.gl.DYNAMIC_DRAW);
  }

  setFlags(flags: Uint8Array) {
    this.gl.bindBuffer(this.gl.ARRAY_BUFFER, this.buffers.flags);
    this.gl.bufferData(this.gl.ARRAY_BUFFER, flags, this.gl.DYNAMIC_DRAW);
  }

  /** Starts drawing the map at `view`: the first slice now, the rest in the following frames. */
  draw(view: View) {
    this.view = view;
    this.next = 0;
    cancelAnimationFrame(this.pending);
    this.pending = 0;
    this.drawSlice();
  }

  /** Resolves when the map of the latest `draw` is complete. */
  whenDrawn(): Promise<void> {
    if (this.next >= this.count && !this.pending) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private drawSlice() {
    const { gl, canvas, view } = this;
    if (this.next === 0) {
      gl.viewport(0, 0, canvas.width, canvas.height);
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
    }
    const n = Math.min(this.slice, this.count - this.next);
    if (n > 0) {
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.useProgram(this.program);
      const [sx, sy] = aspect(canvas.width, canvas.height);
      gl.uniform2f(gl.getUniformLocation(this.program, 'u_scale'), view.scale * sx, view.scale * sy);
      gl.uniform2f(gl.getUniformLocation(this.program, 'u_t'), view.tx * sx, view.ty * sy);
      const dpr = canvas.width / Math.max(1, canvas.clientWidth || canvas.width);
      // larger points where there are few of them, and as the view zooms in
      const base = Math.min(6, Math.max(2, 2 + 4 * Math.sqrt(5000 / this.count)));
      gl.uniform1f(gl.getUniformLocation(this.program, 'u_size'), dpr * Math.min(10, base + Math.log2(view.scale)));
      gl.bindVertexArray(this.vao);
      gl.drawElements(gl.POINTS, n, gl.UNSIGNED_INT, this.next * 4);
      gl.bindVertexArray(null);
      this.next += n;
    }
    if (this.next < this.count) {
      this.lastFrame = performance.now();
      this.pending = requestAnimationFrame(() => {
        this.pending = 0;
        const now = performance.now(); // the callback's argument is the frame's start, which may precede lastFrame
        // the gap between frames is what the last slice cost (in software, WebGL works on the main thread)
        const gap = now - this.lastFrame;
        if (gap > 50) this.slice = Math.max(8192, this.slice >> 1);
        else if (gap < 25) this.slice = Math.min(1 << 22, this.slice << 1);
        this.drawSlice();
      });
    } else this.waiters.splice(0).forEach((w) => w());
  }

  dispose() {
    cancelAnimationFrame(this.pending);
    const gl = this.gl;
    gl.deleteBuffer(this.order);
    Object.values(this.buffers).forEach((b) => gl.deleteBuffer(b));
    gl.deleteVertexArray(this.vao);
    gl.deleteProgram(this.program);
  }
}

/** Keeps the map square on a canvas of any shape: the shorter side spans [-1, 1]. */
export function aspect(w: number, h: number): [number, number] {
  return w > h ? [h / w, 1] : [1, w / h];
}

/** Canvas pixel (CSS px from its top-left) to map coordinates, and back. */
export function toMap(px: number, py: number, w: number, h: number, v: View): [number, number] {
  const [sx, sy] = aspect(w, h);
  const cx = (px / w) * 2 - 1;
  const cy = 1 - (py / h) * 2;
  return [(cx / sx - v.tx) / v.scale, (cy / sy - v.ty) / v.scale];
}

export function toScreen(x: number, y: number, w: number, h: number, v: View): [number, number] {
  const [sx, sy] = aspect(w, h);
  return [(((x * v.scale + v.tx) * sx + 1) / 2) * w, ((1 - (y * v.scale + v.ty) * sy) / 2) * h];
}
