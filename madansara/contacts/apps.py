from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "madansara.contacts"
    label = "contacts"
    verbose_name = "Contacts"
