"""CSV import and export of products, barcodes and stock (`wms import ...`, `wms export ...`)."""
