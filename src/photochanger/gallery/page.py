"""`/pubgallery`: one small self-contained page (no build step) that fetches
`/pub/gallery` and shows the photos, in English or Russian after the browser.
The full web UI is a later issue; this page only has to work on a phone."""

PUBLIC_GALLERY_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PhotoChanger</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#111;color:#eee}
header{padding:1rem;font-size:1.3rem}
#status{padding:0 1rem;color:#aaa}
#status a{color:#9cf}
section h2{font-size:1.1rem;margin:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:.5rem;
padding:0 1rem}
.grid a{display:block;aspect-ratio:1;background:#222;border-radius:.4rem;overflow:hidden}
.grid img{width:100%;height:100%;object-fit:cover}
</style>
</head>
<body>
<header id="title"></header>
<p id="status"></p>
<main id="gallery"></main>
<noscript>This page needs JavaScript. / Для этой страницы нужен JavaScript.</noscript>
<script>
const TEXT = {
  en: {title: "Photo gallery", loading: "Loading…", closed: "The gallery is closed.",
       busy: "Too many requests, trying again shortly…", empty: "No photos yet.",
       failed: "The gallery could not be loaded.", until: "Open until", download: "Download",
       all: "Download all (ZIP)"},
  ru: {title: "Фотогалерея", loading: "Загрузка…", closed: "Галерея закрыта.",
       busy: "Слишком много запросов, повторим чуть позже…", empty: "Фотографий пока нет.",
       failed: "Не удалось загрузить галерею.", until: "Открыта до", download: "Скачать",
       all: "Скачать все (ZIP)"},
};
const lang = (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
const t = TEXT[lang];
document.documentElement.lang = lang;
document.title = t.title;
document.getElementById("title").textContent = t.title;
const status = document.getElementById("status");
const gallery = document.getElementById("gallery");

function show(data) {
  gallery.replaceChildren();
  const until = new Date(data.share_until);
  status.textContent = data.slots.length ? t.until + " " + until.toLocaleTimeString(lang) + " · "
                                         : t.empty;
  if (data.slots.length) {
    const zip = document.createElement("a");
    zip.href = "/pub/gallery.zip";
    zip.textContent = t.all;
    status.append(zip);
  }
  for (const slot of data.slots) {
    const section = document.createElement("section");
    const heading = document.createElement("h2");
    heading.textContent = slot.name;
    const grid = document.createElement("div");
    grid.className = "grid";
    for (const result of slot.results) {
      const link = document.createElement("a");
      link.href = result.result_url;
      link.title = t.download;
      const image = document.createElement("img");
      image.loading = "lazy";
      image.alt = slot.name;
      image.src = result.preview_url || result.result_url;
      link.append(image);
      grid.append(link);
    }
    section.append(heading, grid);
    gallery.append(section);
  }
}

async function load() {
  let next = 60;
  try {
    const response = await fetch("/pub/gallery");
    if (response.ok) {
      show(await response.json());
    } else if (response.status === 403) {
      gallery.replaceChildren();
      status.textContent = t.closed;
    } else if (response.status === 429) {
      status.textContent = t.busy;
      next = (await response.json()).retry_after || 60;
    } else {
      status.textContent = t.failed;
    }
  } catch (error) {
    status.textContent = t.failed;
  }
  setTimeout(load, next * 1000);
}
status.textContent = t.loading;
load();
</script>
</body>
</html>
"""
