-- What a product says of itself (ops.product): its kind, code, names, build time and k.
select kind, code, name_fr, name_ar, built_at, suppression_k from ops.product
