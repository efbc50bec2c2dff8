"""The site print daemon: claims print jobs from the WMS over HTTPS and drives the site's printers."""
