// Runs before the page is drawn: lets the stylesheet tell pages with JavaScript from those without.
document.documentElement.className = document.documentElement.className.replace("no-js", "js");
