// The launcher's CSS, scoped by its shadow root: host rules cannot reach in, these cannot leak out.
export function launcherStyles(color: string, side: 'left' | 'right'): string {
  const safeColor = /^#[0-9a-f]{3,8}$/i.test(color) ? color : '#1f93ff';
  return `:host{all:initial}
[hidden]{display:none!important}
.launcher{position:fixed;${side}:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border:0;border-radius:50%;background:${safeColor};color:#fff;cursor:pointer;box-shadow:0 4px 12px rgba(0,0,0,.2);display:flex;align-items:center;justify-content:center;padding:0}
.launcher:focus-visible{outline:3px solid #000;outline-offset:2px}
.launcher svg{width:26px;height:26px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}
.launcher .close,:host(.open) .launcher .chat{display:none}
:host(.open) .launcher .close{display:block}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;background:#e11d48;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center}
.frame{position:fixed;${side}:20px;bottom:88px;z-index:2147483000;width:380px;height:min(640px,calc(100vh - 108px));border-radius:12px;overflow:hidden;box-shadow:0 8px 28px rgba(0,0,0,.25);background:#fff}
.frame iframe{border:0;width:100%;height:100%;display:block}
.campaign{position:fixed;${side}:20px;bottom:88px;z-index:2147483000;max-width:300px;display:flex;align-items:flex-start;gap:4px;font:14px/1.4 system-ui,sans-serif}
.campaign-open{flex:1;text-align:left;border:0;border-radius:12px;padding:10px 12px;background:#fff;color:#1f2937;box-shadow:0 4px 16px rgba(0,0,0,.18);cursor:pointer;font:inherit}
.campaign-open .sender{display:block;font-weight:600;font-size:12px;color:#6b7280}
.campaign-close{border:0;border-radius:50%;width:24px;height:24px;background:#fff;box-shadow:0 2px 8px rgba(0,0,0,.18);cursor:pointer;font:12px/24px system-ui,sans-serif;padding:0}
@media (max-width:480px){.frame{inset:0;width:100%;height:100%;border-radius:0}:host(.open) .launcher{display:none}}`;
}
