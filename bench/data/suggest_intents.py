"""Customer questions for bench/suggest.py: ten support intents in six languages, three
phrasings each. The benchmark indexes answers to the first two phrasings and asks with the
third (with greetings, order numbers and typos added), so retrieval must bridge paraphrases."""

INTENTS = {
    "where-is-order": {
        "it": ["dov'è il mio ordine {n}?", "il mio pacco {n} non è ancora arrivato", "quando arriva la spedizione dell'ordine {n}?"],
        "en": ["where is my order {n}?", "my parcel {n} still hasn't arrived", "when will order {n} be delivered?"],
        "es": ["¿dónde está mi pedido {n}?", "mi paquete {n} todavía no ha llegado", "¿cuándo llega el envío del pedido {n}?"],
        "de": ["wo ist meine Bestellung {n}?", "mein Paket {n} ist immer noch nicht angekommen", "wann wird die Bestellung {n} geliefert?"],
        "fr": ["où est ma commande {n} ?", "mon colis {n} n'est toujours pas arrivé", "quand ma commande {n} sera livrée ?"],
        "pt": ["cadê meu pedido {n}?", "meu pacote {n} ainda não chegou", "quando o pedido {n} vai ser entregue?"],
    },
    "refund": {
        "it": ["quando ricevo il rimborso?", "non mi è ancora arrivato il rimborso", "mi avete rimborsato i soldi?"],
        "en": ["when do I get my refund?", "I still haven't received my refund", "have you refunded my money yet?"],
        "es": ["¿cuándo recibo el reembolso?", "todavía no me ha llegado el reembolso", "¿me habéis devuelto el dinero?"],
        "de": ["wann bekomme ich meine Rückerstattung?", "ich habe die Rückerstattung noch nicht erhalten", "habt ihr mir das Geld zurückerstattet?"],
        "fr": ["quand vais-je recevoir mon remboursement ?", "je n'ai toujours pas reçu le remboursement", "vous m'avez remboursé ?"],
        "pt": ["quando recebo o reembolso?", "ainda não recebi o reembolso", "vocês já me reembolsaram?"],
    },
    "return": {
        "it": ["come faccio a fare un reso?", "voglio restituire un prodotto", "posso rendere l'articolo che ho comprato?"],
        "en": ["how do I return an item?", "I want to send a product back", "can I return the thing I bought?"],
        "es": ["¿cómo hago una devolución?", "quiero devolver un producto", "¿puedo devolver el artículo que compré?"],
        "de": ["wie funktioniert die Rücksendung?", "ich möchte einen Artikel zurückschicken", "kann ich das gekaufte Produkt zurückgeben?"],
        "fr": ["comment faire un retour ?", "je veux renvoyer un produit", "je peux retourner l'article acheté ?"],
        "pt": ["como faço uma devolução?", "quero devolver um produto", "posso devolver o item que comprei?"],
    },
    "change-address": {
        "it": ["posso cambiare l'indirizzo di consegna?", "ho sbagliato indirizzo nell'ordine", "devo modificare l'indirizzo di spedizione"],
        "en": ["can I change my delivery address?", "I put the wrong address on my order", "I need to update the shipping address"],
        "es": ["¿puedo cambiar la dirección de entrega?", "me equivoqué de dirección en el pedido", "necesito modificar la dirección de envío"],
        "de": ["kann ich die Lieferadresse ändern?", "ich habe die falsche Adresse angegeben", "ich muss die Versandadresse korrigieren"],
        "fr": ["je peux changer l'adresse de livraison ?", "je me suis trompé d'adresse dans la commande", "je dois modifier l'adresse d'expédition"],
        "pt": ["posso mudar o endereço de entrega?", "coloquei o endereço errado no pedido", "preciso alterar o endereço de envio"],
    },
    "damaged": {
        "it": ["il prodotto è arrivato rotto", "la confezione era danneggiata", "mi è arrivato un articolo difettoso, cosa faccio?"],
        "en": ["the product arrived broken", "the box was damaged", "I got a faulty item, what should I do?"],
        "es": ["el producto llegó roto", "el paquete venía dañado", "me llegó un artículo defectuoso, ¿qué hago?"],
        "de": ["das Produkt kam kaputt an", "die Verpackung war beschädigt", "ich habe einen defekten Artikel bekommen, was tun?"],
        "fr": ["le produit est arrivé cassé", "le colis était abîmé", "j'ai reçu un article défectueux, je fais quoi ?"],
        "pt": ["o produto chegou quebrado", "a embalagem veio danificada", "recebi um item com defeito, o que faço?"],
    },
    "payment-methods": {
        "it": ["posso pagare con paypal?", "quali metodi di pagamento accettate?", "si può pagare con la carta o in contanti?"],
        "en": ["can I pay with paypal?", "which payment methods do you accept?", "is it possible to pay by card or cash?"],
        "es": ["¿puedo pagar con paypal?", "¿qué métodos de pago aceptan?", "¿se puede pagar con tarjeta o en efectivo?"],
        "de": ["kann ich mit PayPal bezahlen?", "welche Zahlungsarten akzeptiert ihr?", "geht Zahlung per Karte oder bar?"],
        "fr": ["je peux payer avec paypal ?", "quels moyens de paiement acceptez-vous ?", "on peut payer par carte ou en espèces ?"],
        "pt": ["posso pagar com paypal?", "quais formas de pagamento vocês aceitam?", "dá pra pagar no cartão ou em dinheiro?"],
    },
    "double-charge": {
        "it": ["mi avete addebitato due volte", "ho pagato l'ordine {n} due volte", "vedo un doppio addebito sulla carta"],
        "en": ["you charged me twice", "I paid for order {n} twice", "I see a double charge on my card"],
        "es": ["me cobraron dos veces", "pagué el pedido {n} dos veces", "veo un cargo doble en mi tarjeta"],
        "de": ["ihr habt mir zweimal abgebucht", "ich habe Bestellung {n} doppelt bezahlt", "auf meiner Karte sehe ich eine doppelte Abbuchung"],
        "fr": ["vous m'avez débité deux fois", "j'ai payé la commande {n} deux fois", "je vois un double prélèvement sur ma carte"],
        "pt": ["vocês me cobraram duas vezes", "paguei o pedido {n} duas vezes", "aparece uma cobrança duplicada no cartão"],
    },
    "password": {
        "it": ["non riesco ad accedere al mio account", "ho dimenticato la password", "come reimposto la password dell'account?"],
        "en": ["I can't log into my account", "I forgot my password", "how do I reset my account password?"],
        "es": ["no puedo entrar en mi cuenta", "olvidé mi contraseña", "¿cómo restablezco la contraseña de la cuenta?"],
        "de": ["ich kann mich nicht in mein Konto einloggen", "ich habe mein Passwort vergessen", "wie setze ich das Passwort zurück?"],
        "fr": ["je n'arrive pas à me connecter à mon compte", "j'ai oublié mon mot de passe", "comment réinitialiser le mot de passe du compte ?"],
        "pt": ["não consigo entrar na minha conta", "esqueci minha senha", "como redefino a senha da conta?"],
    },
    "opening-hours": {
        "it": ["a che ora aprite domani?", "qual è l'orario del negozio?", "siete aperti la domenica?"],
        "en": ["what time do you open tomorrow?", "what are the store opening hours?", "are you open on sundays?"],
        "es": ["¿a qué hora abren mañana?", "¿cuál es el horario de la tienda?", "¿abren los domingos?"],
        "de": ["wann öffnet ihr morgen?", "wie sind die Öffnungszeiten des Ladens?", "habt ihr sonntags geöffnet?"],
        "fr": ["vous ouvrez à quelle heure demain ?", "quels sont les horaires du magasin ?", "vous êtes ouverts le dimanche ?"],
        "pt": ["que horas vocês abrem amanhã?", "qual o horário da loja?", "vocês abrem aos domingos?"],
    },
    "invoice": {
        "it": ["mi serve la fattura dell'ordine {n}", "dove trovo la fattura?", "potete mandarmi la ricevuta fiscale dell'acquisto?"],
        "en": ["I need the invoice for order {n}", "where can I find my invoice?", "could you send me the receipt for my purchase?"],
        "es": ["necesito la factura del pedido {n}", "¿dónde encuentro la factura?", "¿me podéis enviar el recibo de la compra?"],
        "de": ["ich brauche die Rechnung für Bestellung {n}", "wo finde ich meine Rechnung?", "könnt ihr mir den Beleg für den Kauf schicken?"],
        "fr": ["j'ai besoin de la facture de la commande {n}", "où trouver ma facture ?", "vous pouvez m'envoyer le reçu de l'achat ?"],
        "pt": ["preciso da nota fiscal do pedido {n}", "onde encontro a nota fiscal?", "podem me mandar o comprovante da compra?"],
    },
}

GREETINGS = {
    "it": ["", "ciao, ", "buongiorno, ", "salve! "],
    "en": ["", "hi, ", "hello! ", "hey there, "],
    "es": ["", "hola, ", "buenas, ", "buenos días, "],
    "de": ["", "hallo, ", "guten Tag, ", "moin! "],
    "fr": ["", "bonjour, ", "salut, ", "bonsoir ! "],
    "pt": ["", "oi, ", "olá, ", "bom dia, "],
}
