// Apache ECharts (vendored, vendor/echarts-6.1.0/) is a classic script that sets window.echarts: load it once, on
// the first screen that draws a chart, and give the screens a chart bound to an element that follows its size.
let loading = null;

export function loadECharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  loading = loading || new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = new URL('../vendor/echarts-6.1.0/echarts.min.js', import.meta.url).href;
    script.onload = () => resolve(window.echarts);
    script.onerror = () => { loading = null; reject(new Error('图表组件加载失败')); };
    document.head.append(script);
  });
  return loading;
}

export async function chart(element, option) {
  const echarts = await loadECharts();
  const instance = echarts.init(element, null, { renderer: 'canvas', locale: 'ZH' });
  instance.setOption({ textStyle: { fontFamily: 'sans-serif' }, ...option });
  new ResizeObserver(() => instance.resize()).observe(element);
  return instance;
}
